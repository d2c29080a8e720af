"""One module per GravixLayer Local service.

Each module exposes ``routes: list[starlette.routing.BaseRoute]`` and may
expose ``SCHEMA: list[str]`` (migration steps, see ``storage.py``) and
``async def startup(app)`` / ``async def shutdown(app)``. List the module in
``gravixlayer.local.app.ROUTERS`` to serve it.
"""
