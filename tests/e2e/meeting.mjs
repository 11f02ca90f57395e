// A whole general meeting of Coöperatie Dimpact through the pages, in headless Chromium:
// the secretariat convenes it (after a refusal that names the earliest lawful date), records a
// paper proxy with its scan, a voter enrols a key and votes in advance, the chair opens the
// meeting, the secretariat checks members in at the door, the chair puts a motion to the vote,
// declares the outcome (signed in the browser), the secretariat records a challenge from the
// floor, the new poll voids the first, and the meeting closes with its minutes. Afterwards a
// resolution outside a meeting is proposed, voted on in the browser and concluded. axe-core
// checks every page against WCAG 2.1 AA and every page is photographed. Run by tests/e2e.rs.

import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ARTIFACTS, REPOSITORY, check, codeFor, expect, log, person, run, setClock, shows } from './lib.mjs';

const ASSOCIATION = 'Coöperatie Dimpact U.A.';
const SECRETARIAT = 'secretariaat@dimpact.example';
const CHAIR = 'johan-dijkstra@example.org';
const MEETING = 'Algemene Ledenvergadering 10 juni 2026';

/** Signs `who` in through the pages with the code mailed to `email`; checks both sign-in pages. */
async function signIn(who, email, { checkPages = false } = {}) {
  const { page } = who;
  await page.goto('/');
  if (checkPages) await check(page, 'sign-in');
  await page.selectOption('#association', { label: ASSOCIATION });
  await page.fill('#email', email);
  await Promise.all([page.waitForURL('**/sign-in'), page.click('#send-code')]);
  if (checkPages) await check(page, 'sign-in-code');
  const code = await codeFor(email);
  await page.fill('#code', code);
  await Promise.all([page.waitForNavigation(), page.click('#enter-code')]);
  expect(await page.locator('#sign-out').count() === 1, `${email} is not signed in: ${page.url()}`);
}

/** Presses Tab until `selector` has the focus (every control is reachable by keyboard). */
async function tabTo(page, selector) {
  for (let i = 0; i < 400; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
  }
  throw new Error(`${selector} cannot be reached with the Tab key on ${page.url()}`);
}

/** Submits the form of `button` and waits for the page it leads to. */
async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), page.click(button)]);
}

/** The value of the option of `select` whose text starts with `text`. */
async function optionStartingWith(page, select, text) {
  const options = await page.locator(`${select} option`).evaluateAll((os) => os.map((o) => [o.value, o.textContent.trim()]));
  const found = options.find(([, label]) => label.startsWith(text));
  expect(found, `${select} has no option starting with ${text}: ${options.map((o) => o[1]).join(' | ')}`);
  return found[0];
}

await run(async () => {
  // ---- the secretariat: register, a meeting convened too late, the meeting, a paper proxy ----
  await setClock('2026-04-20T09:00:00+02:00');
  const secretariat = await person('secretariat');
  await signIn(secretariat, SECRETARIAT, { checkPages: true });
  const s = secretariat.page;
  await check(s, 'home-secretariat');
  await submit(s, '#part-secretariat');
  await check(s, 'secretariat-overview');
  const association = new URL(s.url()).pathname.split('/')[1];
  await submit(s, '#register-link');
  await shows(s, 'Gemeente Raalte', 'Mw. Monique van Esterik', '40 leden');
  await check(s, 'secretariat-register');

  await s.goBack();
  await submit(s, '#meetings-link');
  await check(s, 'secretariat-meetings');
  // A meeting too soon: the convocation cannot go out ten clear days before it (Art. 8.3).
  await s.fill('#title', 'Extra ledenvergadering');
  await s.fill('#date', '2026-04-28');
  await s.fill('#time', '19:30');
  await s.fill('#place', 'Stadhuis Zwolle');
  await s.fill('#item_1_title', 'Benoeming lid raad van commissarissen');
  await s.fill('#item_1_motion', 'De vergadering benoemt mw. A. de Groot tot lid van de raad van commissarissen.');
  await submit(s, '#create-meeting');
  await shows(s, 'Extra ledenvergadering', 'uiterlijk 2026-04-17', 'te laat');
  await check(s, 'secretariat-meeting-too-late');
  await s.check('#advance_voting');
  await submit(s, '#convene');
  // The refusal names the rule, the article, and the earliest lawful date.
  await shows(s, 'R3', '8.3', '2026-05-01');
  expect((await s.locator('[role="alert"]').count()) === 1, 'the refusal is not announced as an alert');
  await check(s, 'secretariat-convocation-refused');

  // The real meeting, seven weeks ahead.
  await s.goto(s.url().replace(/\/secretariat.*$/, '/secretariat/meetings'));
  await s.fill('#title', MEETING);
  await s.fill('#date', '2026-06-10');
  await s.fill('#time', '19:30');
  await s.fill('#place', 'Stadhuis Zwolle, Grote Kerkplein 15');
  await s.fill('#item_1_title', 'Opening en vaststelling agenda');
  await s.fill('#item_2_title', 'Jaarrekening 2025');
  await s.fill('#item_2_motion', 'De jaarrekening 2025 wordt vastgesteld.');
  await s.check('#item_2_annual_accounts');
  await s.fill('#item_3_title', 'Contributie 2027');
  await s.fill('#item_3_motion', 'De contributie voor 2027 wordt met 3% verhoogd.');
  await s.selectOption('#item_3_kind', 'two_thirds');
  await s.fill('#item_4_title', 'Rondvraag en sluiting');
  await submit(s, '#create-meeting');
  await shows(s, MEETING, 'uiterlijk 2026-05-30', 'op tijd');
  await s.check('#advance_voting');
  await s.fill('#electronic_participation', 'Deelname via de videoverbinding; de deelnemer meldt zich met naam en gemeente en stemt in Stembus.');
  await submit(s, '#convene');
  await shows(s, 'Bijeengeroepen op 2026-04-20', 'Stemmen vooraf kan van 2026-05-11');
  await check(s, 'secretariat-meeting-convened');
  const meetingPage = s.url();

  // Deventer's proxy to Raalte arrives on paper: the scan is uploaded, its SHA-256 shown.
  await submit(s, '#proxies-link');
  await check(s, 'secretariat-proxies');
  const scan = Buffer.from('%PDF-1.4\n% Volmacht gemeente Deventer aan gemeente Raalte, ALV 10 juni 2026\n%%EOF\n');
  const scanFile = join(tmpdir(), `volmacht-deventer-${process.pid}.pdf`);
  writeFileSync(scanFile, scan);
  await s.selectOption('#grantor', { label: 'Gemeente Deventer / DOWR' });
  await s.selectOption('#holder', await optionStartingWith(s, '#holder', 'Gemeente Raalte'));
  await s.setInputFiles('#scan', scanFile);
  await submit(s, '#record-proxy');
  const sha = createHash('sha256').update(scan).digest('hex');
  await shows(s, 'Gemeente Deventer / DOWR', 'Gemeente Raalte', 'op papier', sha);
  // A third member may not give its proxy to Raalte's side beyond the cap... but a second is fine.
  await s.selectOption('#grantor', { label: 'Gemeente Olst-Wijhe' });
  await s.selectOption('#holder', await optionStartingWith(s, '#holder', 'Gemeente Raalte'));
  await s.setInputFiles('#scan', scanFile);
  await submit(s, '#record-proxy');
  await s.selectOption('#grantor', { label: 'Gemeente Kampen' });
  await s.selectOption('#holder', await optionStartingWith(s, '#holder', 'Gemeente Raalte'));
  await s.setInputFiles('#scan', scanFile);
  await submit(s, '#record-proxy');
  // The cap of Art. 8.5: at most two members besides its own.
  await shows(s, 'R2', '8.5');
  await check(s, 'secretariat-proxy-over-the-cap');
  await s.goBack();
  await s.reload();
  await shows(s, 'Gemeente Olst-Wijhe');
  expect(!(await s.locator('#proxies').innerText()).includes('Gemeente Kampen'), 'a refused proxy was recorded');
  await check(s, 'secretariat-proxies-recorded');

  // ---- keys, and an advance ballot (Art. 8.13) ---------------------------------------------
  await setClock('2026-05-20T10:00:00+02:00');
  const chair = await person('chair');
  await signIn(chair, CHAIR);
  await enrol(chair, association);
  const voterMeeting = meetingPage.replace('/secretariat/meetings/', '/voter/meetings/');
  const rotterdam = await person('rotterdam');
  await signIn(rotterdam, 'rotterdam-official@example.org');
  await enrol(rotterdam, association, { checkPage: true });
  await rotterdam.page.goto(voterMeeting);
  await check(rotterdam.page, 'voter-meeting-advance');
  await castBallot(rotterdam, voterMeeting, 'Contributie 2027', 'Gemeente Rotterdam', 'for');
  await check(rotterdam.page, 'voter-advance-ballot-cast');
  const raalte = await person('raalte');
  await signIn(raalte, 'monique-van-esterik@example.org');
  await enrol(raalte, association);
  const zwolle = await person('zwolle');
  await signIn(zwolle, 'p-guldemond@example.org');
  await enrol(zwolle, association);

  // ---- the meeting ----------------------------------------------------------------------------
  // The meeting's evening: three weeks later every session has ended, so everyone signs in again.
  await setClock('2026-06-10T19:30:00+02:00');
  for (const [who, email] of [[secretariat, SECRETARIAT], [chair, CHAIR], [rotterdam, 'rotterdam-official@example.org'], [raalte, 'monique-van-esterik@example.org'], [zwolle, 'p-guldemond@example.org']]) {
    await signIn(who, email);
  }
  const dashboard = meetingPage.replace('/secretariat/meetings/', '/chair/meetings/');
  const c = chair.page;
  await c.goto(dashboard);
  await shows(c, 'bijeengeroepen');
  await check(c, 'chair-before-opening');
  await submit(c, '#open-meeting');
  await shows(c, 'geopend', 'Johan Dijkstra');

  // The secretariat checks members in at the door.
  await s.goto(meetingPage + '/attendance');
  await check(s, 'secretariat-door');
  const arrivals = [
    ['Gemeente Assen', 'Wethouder Rasker'],
    ['Gemeente Borger-Odoorn', 'Wethouder Bernard Jansen'],
    ['Gemeente Coevorden', 'Mw. Beatrijs de Vries'],
    ['Gemeente Emmen', 'Dhr. Bauke van der Meulen'],
    ['Gemeente Enschede', 'Wethouder Teutelink'],
    ['Gemeente Gemert-Bakel', 'Mw. Wendy Borst'],
    ['Gemeente Laarbeek', 'Mw. Wendy Borst'],
    ['Gemeente Groningen', 'Dhr. Arne Bakker'],
    ['Gemeente Haarlemmermeer', 'Mw. Jansje Albers'],
    ['Gemeente Hellevoetsluis', 'Wethouder Den Brok'],
    ['Gemeente Horst aan de Maas', 'Wethouder Joosten'],
    ['Gemeente Landsmeer', 'Mw. M.V. Braun'],
    ['Gemeente Leidschendam-Voorburg', 'Mw. Betsy Breemer'],
    ['Gemeente Maashorst (Landerd)', 'Mw. Patricia Nieuwenhuis'],
    ['Gemeente Oldenzaal', 'Mw. Christa Arkink'],
    ['Gemeente Raalte', 'Mw. Monique van Esterik'],
    ['Gemeente Zwolle', 'Wethouder P. Guldemond'],
  ];
  for (const [member, who] of arrivals) {
    await s.selectOption('#member', { label: member });
    await s.selectOption('#person', await optionStartingWith(s, '#person', who));
    await submit(s, '#check-in-button');
    expect((await s.locator('[role="alert"]').count()) === 0, `${member} could not check in: ${await s.locator('main').innerText()}`);
  }
  await shows(s, 'Nu aanwezig: 17');
  // Raalte holds Deventer's and Olst-Wijhe's proxies: its representative checks in for them too.
  for (const member of ['Gemeente Deventer / DOWR', 'Gemeente Olst-Wijhe']) {
    await s.selectOption('#member', { label: member });
    await s.selectOption('#person', await optionStartingWith(s, '#person', 'Mw. Monique van Esterik'));
    await submit(s, '#check-in-button');
  }
  await shows(s, 'Nu aanwezig: 19', 'bij volmacht');
  await check(s, 'secretariat-door-checked-in');

  // The chair's dashboard follows live: 19 present or represented, 2 by proxy.
  await c.waitForFunction(() => document.querySelector('#present-total')?.textContent.trim() === '19', null, { timeout: 10000 });
  await shows(c, 'Gemeente Deventer / DOWR');
  expect((await c.locator('#present-by-proxy').innerText()).trim() === '2', 'the dashboard does not show the two proxies');
  // Twenty of forty is the quorum: one more is needed.
  expect((await c.locator('#quorum-table').innerText()).includes('nee'), 'the quorum is shown as met with 19 of 40');
  await s.selectOption('#member', { label: 'Gemeente Roermond' });
  await s.selectOption('#person', await optionStartingWith(s, '#person', 'Wethouder V. Zwijnenberg'));
  await submit(s, '#check-in-button');
  await c.waitForFunction(() => document.querySelector('#present-total')?.textContent.trim() === '20', null, { timeout: 10000 });
  await check(c, 'chair-quorum-met');

  // A voter does not see the chair's page, nor the secretariat's.
  await rotterdam.page.goto(dashboard);
  await shows(rotterdam.page, 'access.not_chair');
  await rotterdam.page.goto(meetingPage + '/attendance');
  await shows(rotterdam.page, 'access.role_required');
  await check(rotterdam.page, 'voter-refused-secretariat');

  // A poll by voice on the annual accounts; the chair records the counts.
  await setClock('2026-06-10T19:50:00+02:00');
  const item = await c.locator('form.open-poll').first();
  const itemText = await item.innerText();
  expect(itemText.includes('Jaarrekening 2025'), `the first motion to vote on is not the accounts: ${itemText}`);
  await c.selectOption('form.open-poll >> nth=0 >> select', 'voice');
  await submit(c, 'form.open-poll >> nth=0 >> button');
  await shows(c, 'Jaarrekening 2025 — mondeling', 'De stemming is open');
  await check(c, 'chair-poll-open');
  await c.fill('input[name="for"]', '11');
  await c.fill('input[name="against"]', '8');
  await c.fill('input[name="abstain"]', '1');
  await submit(c, 'button[id^="close-poll-"]');
  await shows(c, 'Meer dan de helft van de uitgebrachte stemmen nodig: 11 van de 19 uitgebrachte stemmen voor — aangenomen', 'regel R7');
  await check(c, 'chair-poll-counted');
  await submit(c, 'button[id^="declare-"]');
  await shows(c, 'Vastgesteld: aangenomen, door Johan Dijkstra.');
  await check(c, 'chair-declared');

  // Challenged from the floor (Art. 17.5): the secretariat records it on the dashboard.
  await s.goto(dashboard);
  await s.check('input[name="supporter"] >> nth=0');
  await s.check('input[name="supporter"] >> nth=1');
  await submit(s, 'button[id^="challenge-"]');
  await shows(s, 'Betwist door:');
  await check(s, 'secretariat-challenge-recorded');

  // The new poll voids the first.
  await setClock('2026-06-10T20:05:00+02:00');
  await c.reload();
  await c.selectOption('select[id^="revote-method-"]', 'voice');
  await submit(c, 'button[id^="revote-"]');
  await c.fill('input[name="for"]', '9');
  await c.fill('input[name="against"]', '10');
  await c.fill('input[name="abstain"]', '1');
  await submit(c, 'button[id^="close-poll-"]');
  await shows(c, '9 van de 19 uitgebrachte stemmen voor — verworpen', 'Deze stemming is vervallen door een nieuwe stemming');
  await submit(c, 'button[id^="declare-"]');
  await shows(c, 'Vastgesteld: verworpen, door Johan Dijkstra.');
  await check(c, 'chair-revote-declared');

  // Oldenzaal leaves; the dashboard follows.
  await setClock('2026-06-10T20:15:00+02:00');
  await s.goto(meetingPage + '/attendance');
  await submit(s, 'button:has-text("Vertrek van Gemeente Oldenzaal vastleggen")');
  await shows(s, 'Nu aanwezig: 19', '2026-06-10 20:15');
  await check(s, 'secretariat-door-member-left');
  await c.waitForFunction(() => document.querySelector('#present-total')?.textContent.trim() === '19', null, { timeout: 10000 });

  // An electronic poll on the contribution (two thirds, Art. 4.6): ballots signed in the
  // voters' browsers arrive on the dashboard live; Rotterdam's advance ballot counts, and
  // makes the quorum (R4: a member with an advance ballot is present for that motion).
  await setClock('2026-06-10T20:20:00+02:00');
  await c.selectOption('form.open-poll >> nth=0 >> select', 'electronic');
  await submit(c, 'form.open-poll >> nth=0 >> button');
  await shows(c, 'Contributie 2027 — elektronisch, op naam');
  await raalte.page.goto(voterMeeting);
  await check(raalte.page, 'voter-meeting-poll-open');
  for (const member of ['Gemeente Raalte', 'Gemeente Deventer / DOWR', 'Gemeente Olst-Wijhe']) {
    await castBallot(raalte, voterMeeting, 'Contributie 2027', member, 'for');
  }
  await castBallot(zwolle, voterMeeting, 'Contributie 2027', 'Gemeente Zwolle', 'against');
  await check(raalte.page, 'voter-ballots-cast');
  await c.waitForFunction(() => /4 stemmen binnen/.test(document.querySelector('#live-part')?.textContent || ''), null, { timeout: 10000 });
  // The README's picture: the top of the dashboard during an electronic poll.
  await c.goto(dashboard);
  await c.setViewportSize({ width: 1280, height: 1400 });
  const shot = await c.screenshot({ path: join(ARTIFACTS, 'chair.png'), fullPage: false });
  await c.setViewportSize({ width: 1280, height: 900 });
  expect(shot.length > 0, 'no screenshot of the chair page');
  if (process.env.STEMBUS_E2E_UPDATE_README_IMAGE) {
    mkdirSync(join(REPOSITORY, 'docs/img'), { recursive: true });
    copyFileSync(join(ARTIFACTS, 'chair.png'), join(REPOSITORY, 'docs/img/chair.png'));
    log('docs/img/chair.png updated');
  }
  await c.reload();
  await submit(c, 'button[id^="close-poll-"]');
  await shows(c, 'Ten minste twee derde van de uitgebrachte stemmen nodig: 4 van de 5 uitgebrachte stemmen voor — aangenomen',
    '17 in persoon, 0 elektronisch, 2 bij volmacht, 1 met een stem vooraf', '20 van 40 leden nodig, 20 aanwezig of vertegenwoordigd — gehaald');
  await submit(c, 'button[id^="declare-"]');
  await shows(c, 'Vastgesteld: aangenomen, door Johan Dijkstra.');
  await check(c, 'chair-contribution-declared');

  // English on request.
  await c.goto(dashboard + '?lang=en');
  await shows(c, 'Present or represented', 'Declared: rejected, by Johan Dijkstra.');
  await check(c, 'chair-in-english');
  await c.goto(dashboard + '?lang=nl');

  // Closing and the minutes.
  await setClock('2026-06-10T20:45:00+02:00');
  // By keyboard alone: Tab to the button that closes the meeting, and press Enter.
  await c.goto(dashboard);
  await tabTo(c, '#close-meeting');
  await Promise.all([c.waitForNavigation(), c.keyboard.press('Enter')]);
  await shows(c, 'Besluitenlijst', 'Jaarrekening 2025', 'verworpen', '1 vervallen stemming', 'Contributie 2027', 'aangenomen',
    'Presentielijst', 'bij volmacht aan Gemeente Raalte', 'alleen met een stem vooraf', '2026-06-10 19:30 CEST – 2026-06-10 20:15 CEST');
  await check(c, 'chair-minutes');

  // The next morning the accountant downloads the meeting's export and reads its verification.
  await setClock('2026-06-11T09:00:00+02:00');
  const auditor = await person('auditor');
  await signIn(auditor, 'accountant@dimpact.example');
  const a = auditor.page;
  await submit(a, '#part-auditor');
  await check(a, 'auditor-meetings');
  await submit(a, `a.report-link:has-text("${MEETING}")`);
  await shows(a, MEETING);
  expect((await a.locator('#verdict.ok').count()) === 1, `the export does not verify: ${await a.locator('main').innerText()}`);
  await check(a, 'auditor-report');
  const [download] = await Promise.all([a.waitForEvent('download'), a.click('#download-export')]);
  const exported = join(ARTIFACTS, 'export.jsonl');
  await download.saveAs(exported);
  const head = readFileSync(exported, 'utf8').slice(0, 200);
  expect(head.includes('stembus-export'), `the download is not an export: ${head}`);

  // After the meeting a municipality joins: the secretariat registers it and its alderman.
  await signIn(secretariat, SECRETARIAT);
  await s.goto(`/${association}/secretariat/members`);
  await s.fill('#member-name', 'Gemeente Almelo');
  await s.selectOption('#member-kind', 'gemeente');
  await s.fill('#member-email', 'alv.almelo@example.org');
  await submit(s, '#register-member');
  await s.fill('#person-name', 'Wethouder A. de Vries');
  await s.fill('#person-email', 'a-de-vries@example.org');
  await submit(s, '#register-person');
  await s.selectOption('#rep-person', { label: 'Wethouder A. de Vries' });
  await s.selectOption('#rep-member', { label: 'Gemeente Almelo' });
  await submit(s, '#assign-representative');
  await shows(s, '41 leden', 'Gemeente Almelo', 'Wethouder A. de Vries (portefeuillehouder)');
  await check(s, 'secretariat-register-new-member');

  // A resolution outside a meeting (Art. 8.12): the secretariat proposes it through its form,
  // Rotterdam's official signs a vote for it in the browser, and once the voting period has
  // ended the secretariat concludes it: one vote for of 41 members, so it is not taken.
  const motion = 'De leden stemmen in met de verhuizing van het bureau naar Utrecht.';
  await s.goto(`/${association}/secretariat`);
  await submit(s, '#resolutions-link');
  await check(s, 'secretariat-resolutions');
  await s.fill('#text', motion);
  await s.selectOption('#kind', 'ordinary');
  await s.fill('#closes_date', '2026-06-25');
  await s.fill('#closes_time', '17:00');
  await s.check('#board_informed');
  await s.check('#supervisory_board_informed');
  await submit(s, '#propose-resolution');
  await shows(s, motion, '0 van 41', '2026-06-25 17:00 CEST');
  await signIn(rotterdam, 'rotterdam-official@example.org');
  const r = rotterdam.page;
  await r.goto(`/${association}/voter`);
  await submit(r, `#resolutions a:has-text("${motion}")`);
  await shows(r, motion, 'alle leden vóór stemmen', '0 van 41 leden');
  const vote = r.locator('form.resolution-vote:has(legend:has-text("Gemeente Rotterdam"))');
  expect((await vote.count()) === 1, `no vote form for Gemeente Rotterdam: ${await r.locator('main').innerText()}`);
  await vote.locator('input[value="for"]').check();
  await vote.locator('button[type="submit"]').click();
  await answered(r, vote, 'the vote for Gemeente Rotterdam on the resolution');
  await shows(r, 'Uw stem (voor) is ontvangen', 'Gestemd: voor.');
  await check(r, 'voter-resolution-voted');
  await r.reload();
  await shows(r, 'Gestemd: voor.', '1 van 41 leden');
  // The vote's receipt is kept with the ballots' and checks out against the association's log.
  await r.goto(`/${association}/voter/receipts`);
  const row = r.locator(`#receipt-rows tr:has-text("${motion}")`);
  await row.waitFor();
  expect((await row.locator('th').innerText()) === 'Besluit buiten vergadering', `the receipt's row: ${await row.innerText()}`);
  await row.locator('button.check-receipt').click();
  await r.waitForFunction(() => /\d/.test(document.querySelector('#check-result')?.textContent || '') || !document.querySelector('#check-error')?.hidden);
  const checkError = await r.locator('#check-error').evaluate((e) => (e.hidden ? '' : e.textContent));
  expect(!checkError, `the resolution vote's receipt does not check out: ${checkError}`);
  await shows(r, 'In orde');
  await check(r, 'voter-receipts-with-resolution-vote');
  await setClock('2026-06-26T09:00:00+02:00');
  await signIn(secretariat, SECRETARIAT);
  await s.goto(`/${association}/secretariat/resolutions`);
  await shows(s, 'De stemtermijn is voorbij.', '1 van 41');
  await submit(s, 'button.conclude');
  await shows(s, 'verworpen');
  await check(s, 'secretariat-resolution-concluded');

  for (const p of [secretariat, chair, rotterdam, raalte, zwolle, auditor]) {
    expect(p.problems.length === 0, p.problems.join('\n'));
  }
});

/** The person makes a key in this browser and enrols it, on the page of keys. */
async function enrol(who, association, { checkPage = false } = {}) {
  const { page } = who;
  await page.goto(`/${association}/voter/keys`);
  await page.waitForSelector('#enrol-key', { state: 'visible' });
  await Promise.all([page.waitForNavigation(), page.click('#enrol-key')]);
  await page.waitForSelector('#keys');
  await page.waitForFunction(() => document.querySelector('#enrol-key')?.hidden === true);
  if (checkPage) await check(page, 'voter-key-enrolled');
}

/** Casts a ballot signed in the browser on the voter's meeting page; waits for the receipt. */
async function castBallot(who, meetingUrl, itemTitle, memberName, choice) {
  const { page } = who;
  if (page.url() !== meetingUrl) await page.goto(meetingUrl);
  const form = page.locator(`section.item:has(h3:has-text("${itemTitle}")) form.ballot:has(legend:has-text("${memberName}"))`);
  expect((await form.count()) === 1, `no ballot form for ${memberName} on ${itemTitle}: ${await page.locator('main').innerText()}`);
  await form.locator(`input[value="${choice}"]`).check();
  await form.locator('button[type="submit"]').click();
  await answered(page, form, `the ballot for ${memberName} on ${itemTitle}`);
}

/** Waits until the vote form `form` reports the signed vote received (a position in the log)
 * or refused; fails when it was refused. */
async function answered(page, form, what) {
  await page.waitForFunction(
    (f) => {
      const ok = f.querySelector('.ballot-ok')?.textContent || '';
      const error = f.querySelector('.ballot-error');
      return (error && !error.hidden) || /\d/.test(ok);
    },
    await form.elementHandle(),
  );
  const error = await form.locator('.ballot-error').evaluate((e) => (e.hidden ? '' : e.textContent));
  expect(!error, `${what} was refused: ${error}`);
}
