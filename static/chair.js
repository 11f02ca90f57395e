// The chair's declaration of a poll's outcome (Art. 17.5), signed in this browser: the form
// carries the numbers the statement binds (data- attributes); this script signs the canonical
// declaration bytes with the key the chair enrolled here (static/sign.js) and fills in the
// hidden fields before the form goes. Without the script, or without a key on this device,
// the form says so instead of sending a declaration the service would refuse (R8).
import { signDeclaration } from "/static/sign.js";

const lang = document.documentElement.lang === "en" ? "en" : "nl";
const WORDS = {
  nl: {
    signing: "Bezig met ondertekenen…",
    "no-key": "Op dit apparaat is geen sleutel van u. Maak er een aan op de pagina voor stemgerechtigden (Sleutel aanmaken) en probeer het opnieuw.",
    "not-current": "De sleutel op dit apparaat is niet meer uw geldige sleutel. Maak een nieuwe aan op de pagina voor stemgerechtigden.",
    failed: "Ondertekenen is mislukt: ",
  },
  en: {
    signing: "Signing…",
    "no-key": "There is no key of yours on this device. Make one on the voter's page (Make a key) and try again.",
    "not-current": "The key on this device is no longer your current key. Make a new one on the voter's page.",
    failed: "Signing failed: ",
  },
}[lang];

for (const form of document.querySelectorAll("form.declare")) {
  const status = form.querySelector(".declare-status");
  form.addEventListener("submit", async (event) => {
    if (form.dataset.signed === "yes") return;
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.textContent = WORDS.signing;
    try {
      const d = form.dataset;
      const signed = await signDeclaration({
        association: d.association, meeting: d.meeting, poll: d.poll, chair: d.chair,
        outcome: d.outcome, for: d.for, against: d.against, abstain: d.abstain,
      });
      form.elements.key.value = signed.key;
      form.elements.sequence.value = String(signed.sequence);
      form.elements.signature.value = signed.signature;
      form.dataset.signed = "yes";
      form.submit();
    } catch (e) {
      const message = e && e.message;
      if (WORDS[message]) {
        status.textContent = WORDS[message];
      } else {
        // The browser's own reason is English: marked so on a Dutch page (WCAG 3.1.2).
        const reason = document.createElement("span");
        reason.lang = "en";
        reason.textContent = message || String(e);
        status.replaceChildren(WORDS.failed, reason);
      }
      button.disabled = false;
    }
  });
}
