"""The composition root: the Bolt app, the HTTP server, the CLI, and import/export.

The only package that imports `handlers`.
"""
