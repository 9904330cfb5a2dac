// After htmx replaces a form or a table, keyboard and screen-reader users land on what changed: the problem
// above a refused form, else the new content. (No inline scripts: the console's CSP allows only its own files.)
document.addEventListener("htmx:afterSwap", function (event) {
  var target = event.detail.target;
  var alert = target.querySelector("[role=alert]");
  var focus = alert || target;
  if (!focus.hasAttribute("tabindex")) focus.setAttribute("tabindex", "-1");
  focus.focus();
});
