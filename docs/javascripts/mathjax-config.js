// MathJax 3, read before tex-svg.js loads (served from the site: no network). On the guide and API pages it
// typesets only the spans pymdownx.arithmatex (generic) writes, \( \) inline and \[ \] displayed, so a literal
// "$" (a price) stays text; the notebook pages (mkdocs-jupyter) write their math as $...$ and $$...$$.
(function () {
  var notebook = document.querySelector(".jupyter-wrapper, .jp-Notebook") !== null;
  window.MathJax = {
    tex: {
      inlineMath: notebook ? [["$", "$"], ["\\(", "\\)"]] : [["\\(", "\\)"]],
      displayMath: notebook ? [["$$", "$$"], ["\\[", "\\]"]] : [["\\[", "\\]"]],
      processEscapes: true,
      processEnvironments: true,
    },
    options: notebook ? {} : { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" },
    svg: { fontCache: "global" },
  };
})();
