import { orientationCode } from '../core/geometry';
import { useVolumeStore } from '../state/volumeStore';

/** True when an index axis is tilted against the patient axes beyond rounding (about 0.1 degree). */
const isOblique = (direction: readonly number[]) => direction.some((v) => Math.abs(v) > 0.002 && Math.abs(v) < 0.998);

const mm = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/0+$/, ''));
const intensity = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));

/** Sidebar section describing the loaded scan. */
export function ImageInfo() {
  const volume = useVolumeStore((s) => s.current);
  if (!volume) {
    return (
      <section className="panel">
        <h3>Image</h3>
        <p className="muted">
          Open a NIfTI, NRRD, MetaImage or DICOM folder (or drop it anywhere on this window), or press <b>Load demo</b>. Nothing leaves your
          computer.
        </p>
      </section>
    );
  }
  const g = volume.geometry;
  return (
    <section className="panel" data-testid="image-info">
      <h3>Image</h3>
      <dl>
        <dt>Name</dt>
        <dd title={volume.name}>{volume.name}</dd>
        {volume.modality && (
          <>
            <dt>Modality</dt>
            <dd>{volume.modality}</dd>
          </>
        )}
        <dt>Size</dt>
        <dd>{g.size.join(' × ')}</dd>
        <dt>Spacing</dt>
        <dd>{g.spacing.map(mm).join(' × ')} mm</dd>
        <dt>Orientation</dt>
        <dd>
          {orientationCode(g)}
          {isOblique(g.direction) && ' (oblique)'}
        </dd>
        <dt>Type</dt>
        <dd>{volume.dataType}</dd>
        <dt>Range</dt>
        <dd>{volume.range ? `${intensity(volume.range[0])} … ${intensity(volume.range[1])}` : '…'}</dd>
      </dl>
    </section>
  );
}
