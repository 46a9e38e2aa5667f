import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { initAuth } from './api/client';
import { startEventStream } from './api/events';
import { App } from './app/App';
import './styles.css';

initAuth();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: 1, refetchOnWindowFocus: false },
    // An action must fail (and say so) rather than wait silently for the engine to come back.
    mutations: { networkMode: 'always', retry: false },
  },
});

startEventStream(queryClient);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
