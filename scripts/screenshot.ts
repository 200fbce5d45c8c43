/**
 * npm run screenshot: the run summaries as a user sees them, for the
 * marketplace page. Builds the extension, runs the bundled tasks against the
 * emulator as the agent does, takes the markdown each attaches as its
 * summary section (and the section's title), renders it (marked) in a page styled like the Extensions
 * tab of an Azure Pipelines run, and screenshots it with headless Chromium
 * (playwright-core) into images/.
 *
 * Needs Debian's chromium (apt-get install chromium); nothing in npm test does.
 * Set CHROMIUM to use another binary.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imdsEnv, startEmulator } from '../emulator';
import { runTask, TaskRun } from '../emulator/agent';
import { buildExtension } from './build';
import { ROOT, stagedTask } from './paths';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The images this script writes, relative to the repository root. */
export const SCREENSHOTS = {
  token: 'images/summary-token.png',
  info: 'images/summary-info.png',
} as const;

/** Width of the page in CSS pixels: about the content width of a run page on a laptop. */
const PAGE_WIDTH = 1000;

export interface SummaryPage {
  /** The pipeline run's title, as the run page's header shows it. */
  runTitle: string;
  /** The run's result, for the status icon beside the title. */
  result: 'Succeeded' | 'SucceededWithIssues';
  /** The section's title on the Extensions tab: the title the task attached its summary with. */
  sectionTitle: string;
  /** The section's content: the task's markdown, rendered. */
  html: string;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** A page that looks like the Extensions tab of an Azure Pipelines run, with one summary section. */
export function summaryPageHtml(page: SummaryPage): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(page.sectionTitle)}</title>
<style>
  :root { --blue: #0078d4; --text: rgba(0,0,0,.9); --secondary: rgba(0,0,0,.55); --line: rgba(0,0,0,.08); }
  * { box-sizing: border-box; }
  body { margin: 0; background: #f8f8f8; color: var(--text);
    font: 14px/20px "Segoe UI", "Segoe UI Web (West European)", -apple-system, BlinkMacSystemFont, Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
  header { background: #fff; padding: 16px 32px 0; border-bottom: 1px solid var(--line); }
  .crumbs { color: var(--secondary); font-size: 12px; }
  h1 { font-size: 20px; line-height: 28px; font-weight: 600; margin: 6px 0 10px; }
  .status { display: inline-block; width: 16px; height: 16px; border-radius: 50%; background: #339947; vertical-align: -2px; margin-right: 8px; position: relative; }
  .status::after { content: ""; position: absolute; left: 5px; top: 2px; width: 4px; height: 8px; border: solid #fff; border-width: 0 2px 2px 0; transform: rotate(45deg); }
  .status.issues { background: #d67f3c; }
  .status.issues::after { content: "!"; border: 0; transform: none; left: 0; top: 0; width: 16px; height: 16px; color: #fff; font-size: 12px; font-weight: 700; line-height: 16px; text-align: center; }
  nav { display: flex; gap: 24px; }
  nav span { padding: 8px 0 10px; color: var(--secondary); }
  nav span.selected { color: var(--text); font-weight: 600; box-shadow: inset 0 -2px 0 var(--blue); }
  main { padding: 16px 32px 24px; }
  .card { background: #fff; border-radius: 4px; box-shadow: 0 1.6px 3.6px rgba(0,0,0,.13), 0 .3px .9px rgba(0,0,0,.11); }
  .card > h2 { margin: 0; padding: 14px 20px; font-size: 16px; font-weight: 600; border-bottom: 1px solid var(--line); }
  .card > h2::before { content: ""; display: inline-block; width: 6px; height: 6px; border: solid var(--secondary); border-width: 0 1.5px 1.5px 0; transform: rotate(45deg); margin: 0 12px 3px 2px; }
  .content { padding: 4px 20px 16px; }
  .content h3 { font-size: 16px; font-weight: 600; margin: 14px 0 8px; }
  .content h4 { font-size: 14px; font-weight: 600; margin: 16px 0 6px; }
  .content p { margin: 6px 0; }
  .content table { border-collapse: collapse; margin: 6px 0 8px; }
  .content th, .content td { text-align: left; padding: 6px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
  .content th { font-weight: 600; color: var(--secondary); }
  .content td:first-child { white-space: nowrap; }
  .content a { color: var(--blue); text-decoration: none; }
  .content tr:first-child th:empty { padding: 0; }
  .content code { font-family: Consolas, Menlo, "DejaVu Sans Mono", monospace; font-size: 13px; background: rgba(0,0,0,.05); padding: 1px 4px; border-radius: 2px; }
  .content pre { background: rgba(0,0,0,.05); padding: 8px 12px; border-radius: 2px; margin: 6px 0; }
  .content pre code { background: none; padding: 0; }
  .content blockquote { margin: 8px 0; padding: 4px 12px; border-left: 3px solid #d67f3c; background: rgba(214,127,60,.08); }
</style></head>
<body>
<header>
  <div class="crumbs">contoso / Deploy / Pipelines / deploy-infra</div>
  <h1><span class="status${page.result === 'Succeeded' ? '' : ' issues'}"></span>${escapeHtml(page.runTitle)}</h1>
  <nav><span>Summary</span><span class="selected">Extensions</span><span>Releases</span></nav>
</header>
<main><section class="card"><h2>${escapeHtml(page.sectionTitle)}</h2><div class="content">${page.html}</div></section></main>
</body></html>
`;
}

/** The markdown a run attached as its summary, and the title the agent gives its section. */
export function attachedSummary(run: TaskRun): { markdown: string; sectionTitle: string } {
  const summary = run.summaries[0];
  if (!summary) throw new Error(`The task attached no summary (result ${run.result ?? 'none'}):\n${run.log}`);
  return { markdown: readFileSync(summary.file, 'utf8'), sectionTitle: summary.title };
}

/** Markdown to HTML with marked (an ES module, so loaded with import()). */
async function renderMarkdown(markdown: string): Promise<string> {
  const { marked } = await import('marked');
  return marked.parse(markdown, { async: false, gfm: true });
}

/** Opens each page in headless Chromium and writes a PNG of it (the page's full height). */
async function screenshot(pages: Array<{ html: string; file: string }>): Promise<void> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'screenshot-profile-'));
  // A persistent context is how Playwright takes a --user-data-dir: a fresh one, removed afterwards.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: PAGE_WIDTH, height: 400 },
    deviceScaleFactor: 1,
    offline: true,
  });
  try {
    for (const p of pages) {
      const tab = await context.newPage();
      await tab.setContent(p.html, { waitUntil: 'load' });
      await tab.screenshot({ path: join(ROOT, p.file), fullPage: true });
      await tab.close();
      console.log(`Wrote ${p.file}`);
    }
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page for one run: its summary rendered, under the section title the agent gives it; the run must have ended as expected. */
async function pageFor(run: TaskRun, expected: SummaryPage['result'], runTitle: string): Promise<string> {
  if (run.result !== expected) throw new Error(`The run ended ${run.result ?? 'without a result'}, not ${expected}:\n${run.log}`);
  const { markdown, sectionTitle } = attachedSummary(run);
  console.log(`── ${sectionTitle} ──\n${markdown}`);
  return summaryPageHtml({ runTitle, result: expected, sectionTitle, html: await renderMarkdown(markdown) });
}

async function main(): Promise<void> {
  await buildExtension();
  // A documentation-style tenant ID, so the pictures show no real tenant.
  const emu = await startEmulator({ userAssigned: ['id-deploy', 'id-readonly'] });
  try {
    const env = imdsEnv(emu);
    const [deploy, reader] = emu.machine.userAssigned;
    const token = await runTask({
      taskDir: stagedTask('ManagedIdentityTokenV1'),
      env,
      inputs: { audience: 'AzureResourceManager', variableName: 'ArmToken', identityType: 'userAssigned', identityIdType: 'clientId', identityId: deploy.clientId },
    });
    // The Info task for an identity that has no role yet: what a first run that meets a 403 shows.
    const info = await runTask({
      taskDir: stagedTask('ManagedIdentityInfoV1'),
      env,
      inputs: {
        // Resource Manager is the emulator, as in the demo: a Custom cloud at its URL.
        cloud: 'Custom',
        armEndpoint: emu.url,
        armAudience: 'https://management.azure.com/',
        identityType: 'userAssigned',
        identityIdType: 'clientId',
        identityId: reader.clientId,
        sections: 'identity,resources,permissions',
      },
    });
    await screenshot([
      { file: SCREENSHOTS.token, html: await pageFor(token, 'Succeeded', '#20261124.3 • Deploy with the agent identity') },
      { file: SCREENSHOTS.info, html: await pageFor(info, 'SucceededWithIssues', '#20261124.4 • Check what the read-only identity can reach') },
    ]);
  } finally {
    await emu.stop();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
