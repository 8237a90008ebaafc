#!/usr/bin/env bash
# Installs the Debian packages the tests need, only when one is missing (idempotent).
set -euo pipefail
# libopenblas0-pthread: Debian's torch uses whatever libblas.so.3 is installed, and the default
# reference BLAS makes its matmuls 5-10x slower (PyTorch timings in `npm run bench:model`).
# python3-pydicom: its sample DICOM files and an independent geometry for tests/dicom-corpus.test.ts.
# orthanc + orthanc-dicomweb: the real PACS the DICOMweb tests and bench:pacs start (scripts/orthanc.mjs).
packages=(chromium python3-torch python3-onnx python3-numpy python3-pytest libopenblas0-pthread python3-pydicom orthanc orthanc-dicomweb)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
# The tests start their own Orthanc on a free port: the packaged service is not needed, and
# where systemd runs it would hold port 8042 and a database in /var/lib/orthanc.
if command -v systemctl >/dev/null && systemctl is-enabled --quiet orthanc 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO systemctl disable orthanc
  # Stopping needs a running systemd (absent in containers, where nothing started it either).
  $SUDO systemctl stop orthanc 2>/dev/null || true
fi
