/**
 * A real Orthanc (Debian's `orthanc` + `orthanc-dicomweb`) for the PACS tests and bench:pacs:
 * started on a loopback port with a temporary storage folder and a generated configuration
 * (DICOMweb plugin on, no remote access, no DICOM network listener), stopped at the end.
 *
 *   const orthanc = await startOrthanc({ port, users: { doctor: 'secret' } });
 *   await orthanc.upload(bytes); ...; await orthanc.stop();
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ORTHANC = '/usr/sbin/Orthanc';

/** The DICOMweb plugin's library, from the package's file list (its path differs between releases). */
function dicomwebPluginPath() {
  const listed = spawnSync('dpkg', ['-L', 'orthanc-dicomweb'], { encoding: 'utf8' });
  const plugin = listed.stdout?.split('\n').find((line) => /libOrthancDicomWeb\.so[.\d]*$/.test(line) && existsSync(line));
  if (!existsSync(ORTHANC) || !plugin) {
    throw new Error('Orthanc with its DICOMweb plugin is not installed: run `bash scripts/install-system-deps.sh`.');
  }
  return plugin;
}

/** A port nobody listens on right now, on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts Orthanc on 127.0.0.1:`port` (a free one when omitted). `users` ({ name: password })
 * turns HTTP Basic authentication on; `refuseStores` makes it refuse every STOW-RS request
 * with 403, as a PACS policy would (a Lua IncomingHttpRequestFilter: the DICOMweb plugin
 * ignores ReceivedInstanceFilter). Resolves once its REST API answers.
 */
export async function startOrthanc({ port, users, refuseStores = false } = {}) {
  const plugin = dicomwebPluginPath();
  const httpPort = port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sam-orthanc-'));
  const config = {
    Name: 'SAM-Med3D test PACS',
    StorageDirectory: path.join(dir, 'storage'),
    IndexDirectory: path.join(dir, 'storage'),
    HttpPort: httpPort,
    // Orthanc 1.10 has no bind address: RemoteAccessAllowed false refuses every non-loopback client.
    RemoteAccessAllowed: false,
    AuthenticationEnabled: Boolean(users),
    RegisteredUsers: users ?? {},
    DicomServerEnabled: false,
    HttpsEnabled: false,
    SaveJobs: false,
    HttpThreadsCount: 16,
    Plugins: [plugin],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, Host: `127.0.0.1:${httpPort}`, Ssl: false },
  };
  if (refuseStores) {
    const script = path.join(dir, 'refuse.lua');
    writeFileSync(
      script,
      `function IncomingHttpRequestFilter(method, uri, ip, username, headers)
  return not (method == 'POST' and string.sub(uri, 1, 11) == '/dicom-web/')
end
`,
    );
    config.LuaScripts = [script];
  }
  const configFile = path.join(dir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(ORTHANC, [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => (log = (log + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // A test runner or bench that dies must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const url = `http://127.0.0.1:${httpPort}`;
  const authorization = users ? `Basic ${Buffer.from(Object.entries(users)[0].join(':')).toString('base64')}` : undefined;
  const headers = authorization ? { Authorization: authorization } : {};
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killOnExit);
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`Orthanc exited (code ${child.exitCode}) on port ${httpPort}:\n${log}`);
    }
    try {
      if ((await fetch(`${url}/system`, { headers })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Orthanc did not answer on port ${httpPort} within 30 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  /** Orthanc's REST API with the configured credential; throws on an error status. */
  const rest = async (method, route, body, contentType = 'application/json') => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { ...headers, ...(body ? { 'Content-Type': contentType } : {}) },
      body: body && contentType === 'application/json' ? JSON.stringify(body) : body,
    });
    if (!response.ok) throw new Error(`Orthanc ${method} ${route}: ${response.status} ${await response.text()}`);
    return response.json();
  };

  return {
    port: httpPort,
    url,
    dicomwebRoot: `${url}/dicom-web`,
    rest,
    /** Stores DICOM Part 10 files through the REST API (POST /instances), a few at a time. */
    async upload(files) {
      const results = [];
      for (let start = 0; start < files.length; start += 8) {
        const batch = files.slice(start, start + 8).map((bytes) => rest('POST', '/instances', bytes, 'application/dicom'));
        results.push(...(await Promise.all(batch)));
      }
      return results;
    },
    stop,
  };
}
