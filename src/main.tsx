import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { startServices } from './services/bootstrap';
import { installTestHook } from './ui/testHook';
import './styles.css';

startServices();
installTestHook();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
