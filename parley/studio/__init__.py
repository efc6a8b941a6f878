"""The studio: review real conversations, annotate them into training data (served at /studio).

`parley.studio.routes.studio_router` builds the pages; `parley.server.bootstrap` wires it when the
project has `access:` and a SQL tracker store.
"""
