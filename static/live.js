// The chair's dashboard, live: listens to the meeting's server-sent events and, after each
// change, puts the freshly rendered live part (presence, quorum, ballots) in place. Without
// this script the page is current when it is reloaded. Changes are announced politely in the
// status line, never by moving the focus.
(function () {
  'use strict';
  var section = document.getElementById('live');
  var part = document.getElementById('live-part');
  var status = document.getElementById('live-status');
  if (!section || !part || !window.EventSource || !window.fetch) return;
  var events = section.getAttribute('data-events');
  var fragment = section.getAttribute('data-fragment');
  var lang = document.documentElement.lang;
  var pending = null;
  var busy = false;

  function words(key) {
    var nl = { updated: 'Bijgewerkt om ', lost: 'De live-verbinding is onderbroken; herlaad de pagina.' };
    var en = { updated: 'Updated at ', lost: 'The live connection was lost; reload the page.' };
    return (lang === 'en' ? en : nl)[key];
  }

  function refresh() {
    if (busy) { pending = true; return; }
    busy = true;
    fetch(fragment, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        part.innerHTML = html;
        section.setAttribute('data-updated', String(Date.now()));
        if (status) status.textContent = words('updated') + new Date().toLocaleTimeString(lang === 'en' ? 'en-GB' : 'nl-NL');
      })
      .catch(function () {
        if (status) status.textContent = words('lost');
      })
      .then(function () {
        busy = false;
        if (pending) { pending = null; refresh(); }
      });
  }

  var source = new EventSource(events, { withCredentials: true });
  var first = true;
  source.addEventListener('snapshot', function () {
    // The first snapshot describes the page as it was rendered.
    if (first) { first = false; section.setAttribute('data-live', 'connected'); return; }
    refresh();
  });
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED && status) status.textContent = words('lost');
  };
})();
