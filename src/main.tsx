import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { startServices } from './services/bootstrap';
import { installTestHooks } from './ui/testHook';
import './styles.css';

startServices();
// Only a test build (vite --mode test) has the read-only test hooks: production bundles leave them out.
if (import.meta.env.MODE === 'test') installTestHooks();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
