"""One module per GravixLayer Local service.

To add a service, create ``routers/<name>.py`` and append ``"<name>"`` to
``gravixlayer.local.app.ROUTERS``. The module provides:

* ``routes: list[starlette.routing.BaseRoute]`` (required), full paths such
  as ``/v1/files/{file_id}``;
* ``SCHEMA: list[str]`` (optional): append-only migration steps, registered
  with the storage under ``<name>`` (see ``storage.py`` for conventions);
* ``async def startup(app)`` / ``async def shutdown(app)`` (optional).

Inside a handler::

    from .._body import RequestModel, parse_body
    from ..errors import LocalAPIError
    from ..storage import Storage, tenant_of

    class CreateThing(RequestModel):
        name: str

    async def create_thing(request: Request) -> Response:
        body = await parse_body(request, CreateThing)      # 400/413 on bad input
        tenant = tenant_of(request)                         # set by the auth middleware
        storage: Storage = request.app.state.storage
        with storage.transaction() as db:
            ...
        raise LocalAPIError(404, "not_found", "thing 'x' not found")  # any error

Auth, ``x-request-id``, the JSON error shape and the 500 fallback are
handled for every route; ``request.app.state`` also has ``config`` and
``embedder``.
"""
