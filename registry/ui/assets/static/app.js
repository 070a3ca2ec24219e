// Copy buttons: the clipboard API where the page is a secure context, a selection otherwise.
"use strict";
document.addEventListener("click", async (e) => {
  const b = e.target.closest("button.copy");
  if (!b) return;
  const text = b.dataset.copy;
  const live = document.getElementById("live");
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    }
  } catch (_) { ok = false; }
  if (!ok) {
    const t = document.createElement("textarea");
    t.value = text;
    t.setAttribute("readonly", "");
    t.style.position = "fixed";
    t.style.opacity = "0";
    document.body.appendChild(t);
    t.select();
    try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
    t.remove();
  }
  live.textContent = ok ? "Copied " + text : "Select and copy: " + text;
  live.classList.add("on");
  clearTimeout(live.timer);
  live.timer = setTimeout(() => live.classList.remove("on"), 2500);
});
