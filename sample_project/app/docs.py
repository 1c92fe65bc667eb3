"""The API's documentation pages (/docs, /redoc), served without the internet.

FastAPI's default pages load Swagger UI and ReDoc from a CDN, so they are blank offline (on a
train, in a locked-down network, in this course's sandbox). The fastapi-offline package ships
those files; they are served from here, with FastAPI's own page builders.
"""

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = files("fastapi_offline") / "static"


def serve_offline(app: FastAPI, prefix: str = "/docs-assets") -> None:
    """Add /docs and /redoc to `app` (made with docs_url=None, redoc_url=None)."""
    app.mount(prefix, StaticFiles(directory=str(ASSETS)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{prefix}/swagger-ui-bundle.js", swagger_css_url=f"{prefix}/swagger-ui.css",
            swagger_favicon_url=f"{prefix}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=app.openapi_url, title=f"{app.title} - ReDoc",
            redoc_js_url=f"{prefix}/redoc.standalone.js", redoc_favicon_url=f"{prefix}/favicon.png",
            with_google_fonts=False,  # fonts from Google are another host too
        )
