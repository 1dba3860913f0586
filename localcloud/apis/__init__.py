"""Emulated APIs: every module here that defines a module-level `router` is served by the app.

A module may also define `settle(state, now)`, called before each request to finish work that
became due (e.g. long-running operations). Adding an API is dropping a module here.
"""
