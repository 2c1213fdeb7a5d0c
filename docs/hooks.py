"""MkDocs hook: the notebooks execute in the docs build, offline, on the shared data.

The notebook kernels inherit this process's environment, so before any page is built this sets

* ``EVENTSTUDY_SHARED_DIR``: kept when set, else ``shared/`` beside the repository (the notebooks' own
  default, which they find from their working directory; named here so that every build agrees);
* ``EVENTSTUDY_PRICES_DIR``: kept when set, else ``<shared>/data/prices``, so that ``es.default_source()``
  reads the shared files instead of Yahoo Finance;
* ``EVENTSTUDY_OFFLINE=1``: any attempt to reach the network fails instead of downloading;
* ``MPLBACKEND=Agg``: figures without a display.

A build that executes the notebooks without the shared data stops here, naming the folder and the fix.
``EVENTSTUDY_DOCS_EXECUTE=false`` renders the notebooks as committed (no data needed).

Math renders offline: after the build, MathJax 3 (``tex-svg.js``: SVG output, no font files, so pages opened
from disk render it too) is copied into ``assets/mathjax/`` of the site from the ``django-static-mathjax``
package (a docs dependency), where ``mkdocs.yml`` points every page.
The API pages' docstrings write math in reST (``.. math::`` blocks and ``:math:`x``` roles), which the
Markdown renderer leaves as a code block and code spans: those become the spans MathJax typesets.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError

#: a docstring's ``.. math::`` block as the Markdown renderer leaves it: the directive, then a code block
_MATH_BLOCK = re.compile(r"<p>\.\. math::</p>\s*<pre><code>(.*?)</code></pre>", re.S)
#: a ``:math:`x``` role: the role's name, then a code span
_MATH_ROLE = re.compile(r":math:<code>(.*?)</code>", re.S)


def on_config(config):
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is None or not jupyter.config["execute"]:
        return config
    repo = Path(config.config_file_path).resolve().parent
    shared = Path(os.environ.get("EVENTSTUDY_SHARED_DIR") or repo.parent / "shared").resolve()
    prices = Path(os.environ.get("EVENTSTUDY_PRICES_DIR") or shared / "data" / "prices")
    if not prices.is_dir():
        raise PluginError(
            f"The docs build executes the notebooks on the shared data, and {prices} is not a folder. Put the "
            "shared folder beside the repository, set EVENTSTUDY_SHARED_DIR to it, or build without executing "
            "the notebooks: EVENTSTUDY_DOCS_EXECUTE=false python -m mkdocs build"
        )
    os.environ["EVENTSTUDY_SHARED_DIR"] = str(shared)
    os.environ["EVENTSTUDY_PRICES_DIR"] = str(prices)
    os.environ["EVENTSTUDY_OFFLINE"] = "1"
    os.environ["MPLBACKEND"] = "Agg"
    return config


def on_page_content(html_text, page, config, files):
    """The reST math of the API pages' docstrings as the spans MathJax typesets (arithmatex's generic form)."""
    if "::: " not in (page.markdown or "") and ":math:" not in html_text and ".. math::" not in html_text:
        return html_text
    html_text = _MATH_BLOCK.sub(lambda m: f'<div class="arithmatex">\\[{_tex(m.group(1))}\\]</div>', html_text)
    return _MATH_ROLE.sub(lambda m: f'<span class="arithmatex">\\({_tex(m.group(1))}\\)</span>', html_text)


def _tex(escaped: str) -> str:
    """The TeX of a code span, HTML-escaped again for the page (``<`` and ``&`` stay entities)."""
    return html.escape(html.unescape(escaped).strip(), quote=False)


def on_post_build(config):
    """Copy MathJax 3 (``tex-svg.js`` and its licence) into the site's ``assets/mathjax``, from the
    django-static-mathjax package (MathJax's own files; Django is not needed)."""
    spec = importlib.util.find_spec("mathjax")
    folder = Path(spec.origin).parent / "static" / "mathjax" if spec is not None and spec.origin else None
    if folder is None or not (folder / "es5" / "tex-svg.js").is_file():
        raise PluginError(
            "The docs serve MathJax from the site, copied from the django-static-mathjax package, which is not "
            'installed: pip install -e ".[dev]" (or ".[docs]")'
        )
    target = Path(config.site_dir) / "assets" / "mathjax"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "es5" / "tex-svg.js", target / "tex-svg.js")
    shutil.copyfile(folder / "LICENSE", target / "LICENSE")
