// Entry point: navigation bar and page routing.
import { render } from 'preact';
import './style.css';
import { onLinkClick, useLocation } from './router';
import { Explorer } from './pages/explorer';
import { AlertsPage } from './pages/alerts';
import { RulesPage } from './pages/rules';
import { TargetsPage } from './pages/targets';
import { SilencesPage } from './pages/silences';
import { StatusPage } from './pages/status';
import { DashboardList } from './dashboards/list';
import { DashboardView } from './dashboards/view';
import { ImportPage } from './dashboards/import';

const NAV: [string, string][] = [
  ['/dashboards', 'Dashboards'],
  ['/graph', 'Explore'],
  ['/alerts', 'Alerts'],
  ['/silences', 'Silences'],
  ['/rules', 'Rules'],
  ['/targets', 'Targets'],
  ['/status', 'Status'],
];

function Page({ path }: { path: string }) {
  if (path === '/' || path === '/dashboards') return <DashboardList />;
  if (path === '/dashboards/import') return <ImportPage />;
  const d = /^\/d\/([^/]+)/.exec(path);
  if (d) return <DashboardView uid={decodeURIComponent(d[1])} />;
  if (path === '/graph' || path === '/query') return <Explorer />;
  if (path === '/alerts') return <AlertsPage />;
  if (path === '/silences') return <SilencesPage />;
  if (path === '/rules') return <RulesPage />;
  if (path === '/targets') return <TargetsPage />;
  if (path.startsWith('/status') || path === '/flags' || path === '/config' || path === '/tsdb-status')
    return <StatusPage />;
  return (
    <div class="page">
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <a href="/dashboards">Go to dashboards</a>.
      </p>
    </div>
  );
}

function App() {
  const { path } = useLocation();
  const active = (href: string) =>
    path === href || (href === '/dashboards' && (path === '/' || path.startsWith('/d/') || path.startsWith('/dashboards')));
  return (
    <div class="app" onClick={onLinkClick as any}>
      <nav class="topnav">
        <a class="brand" href="/dashboards">
          Pharos
        </a>
        {NAV.map(([href, label]) => (
          <a href={href} class={active(href) ? 'active' : ''}>
            {label}
          </a>
        ))}
      </nav>
      <main>
        <Page path={path} />
      </main>
    </div>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
