// Copy buttons (`<button data-copy="<input id>">`): copies the field's value to the clipboard.
// A file of the site's own, so the pages' Content-Security-Policy runs it (inline handlers are
// refused); it listens on the document, so it works before the page hydrates.
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  const field = button && document.getElementById(button.dataset.copy);
  if (!field || !navigator.clipboard) return;
  navigator.clipboard.writeText(field.value).then(() => {
    button.textContent = "Copied";
  });
});
