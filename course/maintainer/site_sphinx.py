"""The course website's own Sphinx extension (docs/conf.py), for lighter pages.

- Folded blocks: `:::{dropdown} Summary` ... `:::` becomes <details><summary>, folded without
  any script, in furo's colours (docs/_static/site.css). sphinx-design has the same directive,
  but adds 62 KB of style sheet and script to every page for it; this adds none.
- myst-nb's style sheet is not linked: 43 KB on every page, mostly a 256-colour palette for
  ANSI escapes that no stored output of the course contains (its `nb_append_css = False` only
  applies to docutils builds). docs/_static/site.css draws the cells instead.
- The language switch: every page of one edition links to the same page of the other (the
  Chinese edition is built into zh/ with the English layout, course/maintainer/site.py), in
  furo's announcement bar. `course_language` (-D course_language=zh) says which edition this
  build is.
- Plain code tokens are not wrapped: Pygments puts every name and punctuation mark of a
  code cell in a <span class="n"> or <span class="p">, and furo's light and dark styles give
  those classes exactly the code block's own text colour (tests/test_site.py checks this in
  the built pygments.css). Unwrapped, they look the same and a long lesson page is about 60 KB
  lighter.
"""

import re

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


class details(nodes.General, nodes.Element):
    pass


class summary(nodes.General, nodes.TextElement):
    pass


class Dropdown(SphinxDirective):
    required_arguments = 1
    final_argument_whitespace = True
    has_content = True

    def run(self):
        node = details(classes=["dropdown"])
        self.set_source_info(node)
        title, messages = self.parse_inline(self.arguments[0], lineno=self.lineno)
        node += summary("", "", *title)
        node += self.parse_content_to_nodes()
        return [node, *messages]


def _visit_details(translator, node):
    translator.body.append(translator.starttag(node, "details"))


def _depart_details(translator, node):
    translator.body.append("</details>\n")


def _visit_summary(translator, node):
    translator.body.append(translator.starttag(node, "summary", suffix=""))


def _depart_summary(translator, node):
    translator.body.append("</summary>\n")


from course.maintainer.site import PLAIN_TOKEN_CLASSES  # noqa: E402 - with the other settings

_PLAIN_TOKEN = re.compile(r'<span class="(?:%s)">([^<]*)</span>' % "|".join(PLAIN_TOKEN_CLASSES))


def _unwrap_plain_tokens(app, pagename, templatename, context, doctree):
    if "body" in context:
        context["body"] = _PLAIN_TOKEN.sub(r"\1", context["body"])


# The editions (syllabus.toml's [[languages]]): the English one at the site's root, each other
# one in a folder of its code, each named in its own language.
from course.i18n import LANGUAGES as SWITCH_LABELS  # noqa: E402


def _language_switch(app, pagename, templatename, context, doctree):
    here = app.config.course_language
    up = "../" * pagename.count("/") + ("../" if here != "en" else "")
    links = [f'<a class="edition-switch" href="{up}{"" if code == "en" else code + "/"}{pagename}.html" '
             f'hreflang="{code}" lang="{code}">{label}</a>'
             for code, label in SWITCH_LABELS.items() if code != here]
    context["theme_announcement"] = " · ".join(links)


def _quiet_word_splitter(app, config):
    """jieba (the Chinese search's word splitter) logs its dictionary loading at DEBUG and
    caches it in the system's temp folder: quiet it, and keep its cache in the build's doctrees,
    which the next build replaces."""
    try:
        import jieba
    except ImportError:
        return
    import logging

    jieba.setLogLevel(logging.WARNING)
    jieba.dt.tmp_dir = app.doctreedir


def _chinese_search():
    """Sphinx 9.0.4's Chinese search ends language_data.js with `window.Stemmer =
    ChineseStemmer`, a class nothing defines (its Latin words are stemmed by the English
    stemmer, whose file it loads): the search page stops with a ReferenceError and finds
    nothing (sphinx-doc/sphinx#14416, fixed after 9.0.4). Named after the stemmer it loads, the
    class exists. tests/test_site.py searches the Chinese edition in a browser."""
    from sphinx.search.zh import SearchChinese

    class SearchChineseStemmedInEnglish(SearchChinese):
        language_name = "English"

    return SearchChineseStemmedInEnglish


def setup(app):
    app.add_search_language(_chinese_search())
    app.add_config_value("course_language", "en", "html")
    app.connect("config-inited", _quiet_word_splitter)
    app.connect("html-page-context", _language_switch)
    # myst-nb (listed before this extension) has registered its style sheet by now; the HTML
    # builder reads the registry when it starts, after every extension's setup.
    app.registry.css_files[:] = [(name, attributes) for name, attributes in app.registry.css_files
                                 if not name.startswith("mystnb.")]
    app.add_node(details, html=(_visit_details, _depart_details))
    app.add_node(summary, html=(_visit_summary, _depart_summary))
    app.add_directive("dropdown", Dropdown)
    app.connect("html-page-context", _unwrap_plain_tokens)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
