// The voter's pages: enrol this browser's key, sign and cast ballots, list, download and
// check receipts. Words come from the page (`#stembus-texts`, the catalogue's [script] and
// [rules] tables); every state is also written in words, and messages go to live regions.
import * as sign from "./sign.js";

const textsBox = document.getElementById("stembus-texts");
const texts = textsBox ? JSON.parse(textsBox.dataset.texts || "{}") : {};
const t = (key, args = {}) => (texts[`script.${key}`] || key).replace(/\{(\w+)\}/g, (_, n) => (n in args ? String(args[n]) : `{${n}}`));

/** Text the service or the browser wrote, which is English: marked so, for a Dutch page
 * (WCAG 3.1.2, language of parts). */
function english(text) {
  const span = document.createElement("span");
  span.lang = "en";
  span.textContent = text;
  return span;
}

/** An error in words: a refusal names its rule (in words) and article; the refusal's own
 * sentence follows, in English as the service gives it. */
function explain(e) {
  if (e && e.message === "no-key") return t("no_key");
  if (e && e.message === "not-current") return t("not_current");
  if (e instanceof sign.Problem && e.rule) {
    const name = texts[`rules.${e.rule}`] || "";
    const sentence = e.message.replace(/^R\d \(Art\. [^)]*\): /, "");
    return [`${t("rule", { rule: e.rule, name, article: e.article })} `, english(sentence)];
  }
  if (e instanceof sign.Problem) return [english(e.message)];
  return t("failed", { reason: e && e.message ? e.message : String(e) });
}

/** Shows a message (text, or a list of text and elements) in `el`; an empty one hides it. */
function show(el, content) {
  if (!el) return;
  if (Array.isArray(content)) el.replaceChildren(...content);
  else el.textContent = content;
  el.hidden = !el.textContent;
}

// ---- the key ---------------------------------------------------------------------------

const keyBox = document.getElementById("key-status");
if (keyBox) {
  const { association, person, current } = keyBox.dataset;
  const state = document.getElementById("key-browser");
  const button = document.getElementById("enrol-key");
  const message = document.getElementById("key-message");
  const error = document.getElementById("key-error");
  const refresh = async () => {
    const mine = await sign.browserKey(association, person);
    if (mine && mine.publicKey === current) {
      state.textContent = t("key_here", { key: mine.publicKey });
      button.hidden = true;
    } else if (current) {
      state.textContent = t("key_elsewhere", { key: current });
      button.hidden = true;
    } else {
      state.textContent = t("key_none");
      button.hidden = false;
    }
  };
  button.addEventListener("click", async () => {
    button.disabled = true;
    show(error, "");
    message.textContent = t("enrolling");
    try {
      const key = await sign.enrolKey(association, person);
      message.textContent = t("enrolled", { key });
      keyBox.dataset.current = key;
      location.reload();
    } catch (e) {
      message.textContent = "";
      show(error, explain(e));
      button.disabled = false;
    }
  });
  refresh().catch((e) => show(error, explain(e)));
}

// ---- ballots and votes on resolutions outside a meeting --------------------------------

/** Signs and sends the choice of a vote form: `send(dataset, choice)` casts it and returns
 * {choice, index, size}; `words` names the messages while signing, when done, and the short
 * line of the vote as it stands. */
function voteForm(form, words, send) {
  const ok = form.querySelector(".ballot-ok");
  const error = form.querySelector(".ballot-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = form.querySelector('input[name="choice"]:checked');
    if (!chosen) {
      show(error, t("choose"));
      return;
    }
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    show(error, "");
    ok.textContent = t(words.signing);
    try {
      const r = await send(form.dataset, chosen.value);
      const choice = t(`choice_${r.choice}`);
      ok.textContent = t(words.done, { choice, index: r.index, size: r.size });
      const cast = form.querySelector(".cast");
      if (cast) cast.textContent = t(words.short, { choice });
    } catch (e) {
      ok.textContent = "";
      show(error, explain(e));
    } finally {
      button.disabled = false;
    }
  });
}

for (const form of document.querySelectorAll("form.ballot")) {
  voteForm(form, { signing: "signing", done: "cast", short: "cast_short" }, async (d, choice) => {
    const receipt = await sign.castBallot({
      association: d.association, meeting: d.meeting, item: d.item, poll: d.poll || null,
      member: d.member, person: d.person, choice,
    });
    return { choice: receipt.choice, index: receipt.leaf_index, size: receipt.tree_head.size };
  });
}

for (const form of document.querySelectorAll("form.resolution-vote")) {
  voteForm(form, { signing: "signing_vote", done: "voted", short: "voted_short" }, async (d, choice) => {
    const receipt = await sign.castResolutionVote({
      association: d.association, resolution: d.resolution, member: d.member, person: d.person, choice,
    });
    return { choice: receipt.choice, index: receipt.leaf_index, size: receipt.tree_head.size };
  });
}

// ---- receipts --------------------------------------------------------------------------

function download(receipt) {
  const blob = new Blob([JSON.stringify(receipt, null, 2) + "\n"], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = receipt.meeting
    ? `receipt-${receipt.meeting}-${receipt.leaf_index}.json`
    : `receipt-resolution-${receipt.resolution}-${receipt.leaf_index}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function check(receipt, result, error) {
  show(error, "");
  result.textContent = t("checking");
  try {
    const r = await sign.checkReceipt(receipt);
    result.textContent = t("checked", { index: receipt.leaf_index, size: r.size, timestamp: r.timestamp, from: r.from });
  } catch (e) {
    result.textContent = "";
    show(error, t("check_failed", { reason: e && e.message ? e.message : String(e) }));
  }
}

const receiptsBox = document.getElementById("receipts");
if (receiptsBox) {
  const { association, person } = receiptsBox.dataset;
  const names = JSON.parse(receiptsBox.dataset.names || "{}");
  const name = (id) => (id && names[id]) || id || "";
  const result = document.getElementById("check-result");
  const error = document.getElementById("check-error");
  sign.receipts(association, person).then((list) => {
    const empty = document.getElementById("receipts-empty");
    if (list.length === 0) {
      empty.textContent = t("no_receipts");
      return;
    }
    empty.hidden = true;
    document.getElementById("receipt-table").hidden = false;
    const rows = document.getElementById("receipt-rows");
    for (const r of list) {
      const tr = document.createElement("tr");
      // A vote on a resolution outside a meeting stands in the association's log: its row
      // names the resolution where a ballot's names the meeting and the item.
      const subject = r.resolution || r.item;
      const cells = [r.meeting ? name(r.meeting) : t("resolution_outside"), name(subject), name(r.member), t(`choice_${r.choice}`), r.cast_at, String(r.leaf_index)];
      cells.forEach((text, i) => {
        const cell = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) cell.scope = "row";
        cell.textContent = text;
        tr.appendChild(cell);
      });
      const actions = document.createElement("td");
      const checkButton = document.createElement("button");
      checkButton.type = "button";
      checkButton.className = "check-receipt";
      checkButton.textContent = t("check");
      checkButton.setAttribute("aria-label", t("check_label", { item: name(subject), member: name(r.member) }));
      checkButton.addEventListener("click", () => check(r, result, error));
      const downloadButton = document.createElement("button");
      downloadButton.type = "button";
      downloadButton.className = "secondary download-receipt";
      downloadButton.textContent = t("download");
      downloadButton.setAttribute("aria-label", t("download_label", { item: name(subject), member: name(r.member) }));
      downloadButton.addEventListener("click", () => download(r));
      actions.append(checkButton, " ", downloadButton);
      tr.appendChild(actions);
      rows.appendChild(tr);
    }
  }).catch((e) => show(error, explain(e)));
  const file = document.getElementById("receipt-file");
  file.addEventListener("change", async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    try {
      await check(JSON.parse(await f.text()), result, error);
    } catch (e) {
      show(error, t("check_failed", { reason: e.message }));
    }
  });
}
