import { useEffect } from 'react';
import { useLoadStore } from '../state/loadStore';

/** Info notices fade by themselves; errors stay until dismissed. */
const INFO_LIFETIME_MS = 6000;

export function Notices() {
  const notices = useLoadStore((s) => s.notices);
  const dismiss = useLoadStore((s) => s.dismiss);

  useEffect(() => {
    const timers = notices.filter((n) => n.kind === 'info').map((n) => setTimeout(() => dismiss(n.id), INFO_LIFETIME_MS));
    return () => timers.forEach(clearTimeout);
  }, [notices, dismiss]);

  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'} data-testid="notice">
          <span>{n.text}</span>
          <button type="button" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
