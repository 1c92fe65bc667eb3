"""Sphinx's configuration of the course's website (`make site`). The sources it reads are laid
out by course/maintainer/site.py in site/src; nothing here names a chapter or a page."""

project = "Migrations in Practice"
html_title = project
html_show_copyright = False  # the repository says nothing about copyright; neither does the site

extensions = [
    "myst_nb",  # the notebooks and the Markdown pages
    "sphinx_copybutton",  # a copy button on code blocks
    "course.maintainer.site_sphinx",  # :::{dropdown} (quiz answers, hints, solutions); lighter pages
]

# The notebooks are never executed for the site: their stored outputs, which the tests compare
# with a fresh run, are what readers see.
nb_execution_mode = "off"
# No widget state in these notebooks; without this myst-nb would add require.js and the widget
# manager from a CDN to any page that had some.
nb_ipywidgets_js = {}
# The cells meant to fail show one exception line (course.runtime.errors), not a full IPython
# traceback, which IPython's own lexer cannot always read ("?" in a SQL statement).
nb_render_error_lexer = "pytb"

# :::{dropdown} blocks; GitHub-style anchors (#the-version-table), which the pages' links use.
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 6

nitpicky = True
root_doc = "index"

html_theme = "furo"
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_favicon = "_static/favicon.svg"  # else every page view asks for /favicon.ico and gets a 404
html_copy_source = False  # no _sources/ copies of the notebooks: search reads the pages themselves
html_show_sourcelink = False
html_last_updated_fmt = None
# Copy the code, not the prompts or the output of a shell session.
copybutton_exclude = ".linenos, .gp, .go"

