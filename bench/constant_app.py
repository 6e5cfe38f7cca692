"""Ceilings for the API benchmark: endpoints that return a constant, served by the same uvicorn.

`bare`: a raw ASGI callable (uvicorn alone, no framework, no model): the most requests/s
this server, loop and machine can answer. `fastapi_const`: a FastAPI POST /predict that
parses the same JSON body and returns a constant: the framework's cost without the model.
The real /predict divided by these says how much of the time the model itself takes.

    uvicorn constant_app:bare          --host 127.0.0.1 --port 8001
    uvicorn constant_app:fastapi_const --host 127.0.0.1 --port 8002
"""
from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

BODY = b'{"category":"constant","confidence":1.0}'


async def bare(scope, receive, send):
    if scope["type"] != "http":  # lifespan events: nothing to set up
        return
    # Drain the request body like a real handler would.
    more = True
    while more:
        msg = await receive()
        more = msg.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


class Item(BaseModel):
    title: str = ""
    description: str = ""


fastapi_const = FastAPI()


@fastapi_const.post("/predict")
def predict(item: Item) -> dict:
    return {"category": "constant", "confidence": 1.0}
