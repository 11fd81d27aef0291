// The Debian package as a user gets it: unpacked with `dpkg -x` into a temporary root (nothing on
// the machine changes: no dpkg database, no /usr, no home folder), its control fields, desktop
// entry and icons checked, then its binary started the way the application menu or a file
// manager does (the desktop entry's Exec line, %f = a folder) on a copy of sample-archive/, in a
// real window under Xvfb, through tauri-driver → WebKitWebDriver. Screenshot:
// tests/e2e/artifacts/installed.png. Run by run.sh under xvfb-run, which builds the package
// (`./dev package --debug`) first.
//
//   SHELFMARK_DEB   the package to test (required; run.sh sets it)
//   TAURI_DRIVER    tauri-driver (default: on PATH, else ~/.cargo/bin/tauri-driver)

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { desktopSession } from './driver.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const ARTIFACTS = join(HERE, '..', 'artifacts');
const DEB = process.env.SHELFMARK_DEB ? resolve(process.env.SHELFMARK_DEB) : '';
const DRIVER_PORT = 4444; // and 4445, its native port

let work; // everything this test writes: the unpacked root, a home, the archive
let root; // the package, unpacked
let entry; // the desktop entry's [Desktop Entry] keys
let session;

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', ...opts });

/** The keys of the [Desktop Entry] group of a .desktop file. */
function parseDesktopEntry(text) {
  const keys = {};
  let group = '';
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const g = /^\[(.*)\]$/.exec(line.trim());
    if (g) group = g[1];
    else if (group === 'Desktop Entry') {
      const i = line.indexOf('=');
      if (i > 0) keys[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
  }
  return keys;
}

before(() => {
  assert.ok(DEB, 'SHELFMARK_DEB is not set: run tests/e2e/desktop/run.sh (it builds the package)');
  assert.ok(existsSync(DEB), `${DEB} is missing: build it with ./dev package --debug`);
  work = mkdtempSync(join(tmpdir(), 'shelfmark-installed-e2e-'));
  root = join(work, 'root');
  run('dpkg-deb', ['-x', DEB, root]);
  const desktop = join(root, 'usr/share/applications/Shelfmark.desktop');
  assert.ok(existsSync(desktop), 'the package has no usr/share/applications/Shelfmark.desktop');
  entry = parseDesktopEntry(readFileSync(desktop, 'utf8'));
});

after(async () => {
  if (session) await session.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the package: control fields, files, desktop entry and icons', () => {
  const field = (name) => run('dpkg-deb', ['-f', DEB, name]).trim();
  assert.equal(field('Package'), 'shelfmark');
  assert.equal(field('Architecture'), run('dpkg', ['--print-architecture']).trim());
  const depends = field('Depends').split(/,\s*/);
  assert.ok(depends.includes('libwebkit2gtk-4.1-0'), `Depends: ${depends}`);
  assert.ok(depends.includes('libgtk-3-0'), `Depends: ${depends}`);

  // Exec=shelfmark-desktop %f: the binary is in /usr/bin and takes one folder.
  assert.equal(entry.Type, 'Application');
  assert.equal(entry.Name, 'Shelfmark');
  const [exe, ...args] = entry.Exec.split(/\s+/);
  assert.deepEqual(args, ['%f'], `Exec=${entry.Exec}`);
  const bin = join(root, 'usr/bin', exe);
  assert.ok(existsSync(bin) && (statSync(bin).mode & 0o111) !== 0, `usr/bin/${exe} is not an executable in the package`);
  assert.equal(entry.TryExec, exe);
  assert.ok(entry.MimeType.split(';').includes('inode/directory'), `MimeType=${entry.MimeType}`);
  assert.match(entry.Categories, /^[A-Za-z]+(;[A-Za-z]+)*;$/);
  assert.equal(entry.Terminal, 'false');

  // Icon=NAME resolves in the hicolor theme at the sizes menus and docks ask for.
  for (const dir of ['32x32', '64x64', '128x128', '256x256', '512x512']) {
    const png = join(root, 'usr/share/icons/hicolor', dir, 'apps', `${entry.Icon}.png`);
    assert.ok(existsSync(png), `no ${dir} icon named ${entry.Icon}`);
    const [w, h] = [readFileSync(png).readUInt32BE(16), readFileSync(png).readUInt32BE(20)];
    assert.equal(`${w}x${h}`, dir, `${png} is ${w}x${h}`);
  }
  assert.ok(existsSync(join(root, 'usr/share/icons/hicolor/scalable/apps', `${entry.Icon}.svg`)), 'no scalable icon');
  assert.ok(existsSync(join(root, 'usr/share/doc/shelfmark/copyright')), 'no usr/share/doc/shelfmark/copyright');

  // The freedesktop.org rules, as the menus read them.
  const v = spawnSync('desktop-file-validate', [join(root, 'usr/share/applications/Shelfmark.desktop')], { encoding: 'utf8' });
  assert.ok(!v.error, 'desktop-file-validate is missing: install desktop-file-utils (.ci/install-system.sh)');
  assert.equal(v.status, 0, `desktop-file-validate: ${v.stdout}${v.stderr}`);
});

test('Depends covers every library the binary links to, and apt would install the package', () => {
  const bin = join(root, 'usr/bin', entry.Exec.split(/\s+/)[0]);
  // The libraries the binary names (readelf: "(NEEDED) Shared library: [libfoo.so.1]"), and
  // where the loader finds them (ldd: "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x…)").
  const needed = [...run('readelf', ['-d', bin]).matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]);
  const found = new Map([...run('ldd', [bin]).matchAll(/^\s*(\S+) => (\S+) \(/gm)].map((m) => [m[1], m[2]]));
  assert.ok(needed.some((l) => l.startsWith('libwebkit2gtk-4.1.so')), `the binary does not link webkit2gtk 4.1: ${needed}`);
  const libs = needed.filter((l) => !l.startsWith('ld-linux'));
  const missing = libs.filter((l) => !found.has(l) || found.get(l) === 'not');
  assert.deepEqual(missing, [], 'libraries the loader does not find');

  // Their packages, in one dpkg -S (dpkg has each file under /lib or /usr/lib, not both).
  const paths = libs.map((l) => found.get(l));
  const variants = paths.flatMap((p) => [p, p.replace(/^\/usr\/lib\//, '/lib/'), p.replace(/^\/lib\//, '/usr/lib/')]);
  const owners = new Map();
  for (const line of spawnSync('dpkg', ['-S', ...new Set(variants)], { encoding: 'utf8' }).stdout.split('\n')) {
    const m = /^([^:,\s]+)(?::\S+)?: (.*)$/.exec(line);
    if (m) owners.set(m[2].replace(/^\/usr\/lib\//, '/lib/'), m[1]);
  }
  const owner = (p) => owners.get(p.replace(/^\/usr\/lib\//, '/lib/'));

  // Everything Depends brings in (its packages and theirs, recursively).
  const depends = run('dpkg-deb', ['-f', DEB, 'Depends'])
    .split(',')
    .map((d) => d.trim().split(/\s/)[0]);
  const closure = new Set(
    run('apt-cache', [
      'depends', '--recurse', '--installed', '--no-recommends', '--no-suggests', '--no-conflicts',
      '--no-breaks', '--no-replaces', '--no-enhances', ...depends,
    ])
      .split('\n')
      .filter((l) => l && !l.startsWith(' '))
      .map((l) => l.replace(/^<|>$/g, '').split(':')[0]),
  );
  const uncovered = libs.filter((l) => !closure.has(owner(found.get(l)))).map((l) => `${l} (${owner(found.get(l))})`);
  assert.deepEqual(uncovered, [], `Depends: ${depends} does not bring these in`);

  // What `apt install ./Shelfmark_….deb` would do here, simulated (nothing is installed).
  const sim = spawnSync('apt-get', ['-s', '-o', 'Debug::NoLocking=1', 'install', DEB], { encoding: 'utf8' });
  assert.equal(sim.status, 0, `apt-get -s install: ${sim.stdout}${sim.stderr}`);
  assert.match(sim.stdout, /^Inst shelfmark /m);
});

/** The app's top-level X11 window: id, title, size (from `xwininfo -root -tree`), or null. */
function appWindow() {
  const tree = run('xwininfo', ['-root', '-tree']);
  // e.g. `     0x200003 "Shelfmark": ("shelfmark-desktop" "Shelfmark")  1280x800+60+50  +60+50`
  for (const m of tree.matchAll(/^\s*(0x[0-9a-f]+) "([^"]*)": \("([^"]*)" "([^"]*)"\)\s+(\d+)x(\d+)/gm)) {
    if (m[2].endsWith('Shelfmark')) return { id: m[1], title: m[2], instance: m[3], cls: m[4], w: +m[5], h: +m[6] };
  }
  return null;
}

test('the installed app opens the folder given on its command line, in a real window', { timeout: 150_000 }, async () => {
  // A folder name with a space and Chinese, as a file manager passes it (%f: one path, absolute).
  const archive = join(work, 'my archive 档案');
  cpSync(join(ROOT, 'sample-archive'), archive, { recursive: true, filter: (p) => !p.includes('.shelfmark') });
  const [exe, ...rest] = entry.Exec.split(/\s+/);
  const args = rest.map((a) => (a === '%f' ? archive : a));

  // A home of its own (WebKit's storage, settings), the installed bin/ first on PATH.
  const home = join(work, 'home');
  for (const d of ['config', 'data', 'cache']) mkdirSync(join(home, d), { recursive: true });
  const env = {
    ...process.env,
    PATH: `${join(root, 'usr/bin')}:${process.env.PATH}`,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
  };
  session = desktopSession({ application: join(root, 'usr/bin', exe), args, port: DRIVER_PORT, env });
  const browser = await session.start();

  // The first rows of the folder named on the command line.
  const firstRow = await browser.$('[data-testid=results] [role=option]');
  await firstRow.waitForDisplayed({ timeout: 60_000, timeoutMsg: 'no rows appeared' });
  await browser.waitUntil(async () => (await browser.getTitle()) === 'my archive 档案 — Shelfmark', {
    timeout: 10_000,
    timeoutMsg: 'the page is not titled with the folder given on the command line',
  });
  const count = await browser.execute(() => document.querySelector('[data-testid=result-count]')?.textContent ?? '');
  assert.match(count.trim(), /^[1-9]\d* /, `count: ${count}`);

  // A real, mapped top-level window, of the class the desktop entry names (so that menus and
  // docks match the window to the entry), with an icon.
  let win = null;
  await browser.waitUntil(async () => (win = appWindow()) !== null, { timeout: 10_000, timeoutMsg: 'no Shelfmark window on the X display' });
  assert.ok(win.w >= 640 && win.h >= 400, `window is ${win.w}x${win.h}`);
  assert.equal(win.instance, entry.StartupWMClass, `WM_CLASS ${win.instance}/${win.cls}, StartupWMClass=${entry.StartupWMClass}`);
  assert.match(run('xwininfo', ['-id', win.id]), /Map State: IsViewable/);
  const icon = run('xprop', ['-id', win.id, '-notype', '_NET_WM_ICON']).split('\n')[0];
  assert.match(icon, /^_NET_WM_ICON = \s*Icon \(\d+ x \d+\):/, 'the window has no icon');

  // Screenshot once painting has settled: two frames in a row, then two equal screenshots in a
  // row (WebKitGTK under Xvfb can hand out a frame painted earlier).
  mkdirSync(ARTIFACTS, { recursive: true });
  let prev = '';
  for (let i = 0; ; i++) {
    await browser.executeAsync((done) => requestAnimationFrame(() => requestAnimationFrame(() => done())));
    const shot = await browser.takeScreenshot();
    if (shot === prev) break;
    assert.ok(i < 50, 'the window never painted the same frame twice');
    prev = shot;
  }
  writeFileSync(join(ARTIFACTS, 'installed.png'), Buffer.from(prev, 'base64'));
});
