import { useEffect, useState, type DragEvent } from 'react';
import { openFiles } from './services/load';
import { openDeepLink } from './services/pacs';
import { ImageInfo } from './ui/ImageInfo';
import { Notices } from './ui/Notices';
import { PacsPanel } from './ui/PacsPanel';
import { SegmentsPanel } from './ui/SegmentsPanel';
import { SeriesChooser } from './ui/SeriesChooser';
import { StatusBar } from './ui/StatusBar';
import { Toolbar } from './ui/Toolbar';
import { ViewGrid } from './ui/ViewGrid';
import { droppedFiles } from './ui/droppedFiles';

const hasFiles = (event: DragEvent) => event.dataTransfer.types.includes('Files');

export function App() {
  const [dragging, setDragging] = useState(false);
  // A PACS or worklist can launch us on a study or series (?dicomweb=...&StudyInstanceUIDs=...).
  useEffect(() => void openDeepLink(), []);

  const onDrop = (event: DragEvent) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    setDragging(false);
    droppedFiles(event.dataTransfer).then(openFiles, (error: unknown) => console.error(error));
  };

  return (
    <div
      className="app"
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.relatedTarget === null) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <Toolbar />
      <main className="workspace">
        <ViewGrid />
        {/* Sidebar: image details now; segmentation panels join it later. */}
        <aside className="sidebar">
          <ImageInfo />
          <SegmentsPanel />
        </aside>
      </main>
      <StatusBar />
      <Notices />
      <PacsPanel />
      <SeriesChooser />
      {dragging && <div className="drop-overlay">Drop a scan file or a DICOM folder to open it</div>}
    </div>
  );
}
