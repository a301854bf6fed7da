"""Screens titles with the KServe SDK's own clients and prints the answer's columns as JSON.

Run as a script by tests/clients/test_kserve.py: the SDK registers the protocol's protobuf
messages (`inference.*`) in protobuf's default pool, as tritonclient does, so it cannot share
the test process with tritonclient.grpc.

    python tests/clients/kserve_client.py rest|grpc TARGET TITLE...
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import numpy as np
from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig


async def infer(mode: str, target: str, titles: list[str]) -> dict[str, Any]:
    tensor = InferInput(name="title", shape=[len(titles)], datatype="BYTES")
    tensor.set_data_from_numpy(np.array(titles, dtype=object))
    request = InferRequest(model_name="akar-gate", infer_inputs=[tensor], request_id="k-1")
    if mode == "rest":
        rest = InferenceRESTClient(RESTConfig(protocol="v2", timeout=60))
        try:
            response = await rest.infer(target, request, model_name="akar-gate")
        finally:
            await rest.close()
    else:
        grpc_client = InferenceGRPCClient(target, timeout=60)
        try:
            response = await grpc_client.infer(request)
        finally:
            await grpc_client.close()
    assert not isinstance(response, dict)
    columns = {
        o.name: [x.decode() if isinstance(x, bytes) else x for x in o.as_numpy().tolist()]
        for o in response.outputs
    }
    return {"id": response.id, "model_version": response.model_version, "columns": columns}


if __name__ == "__main__":
    mode, target, *titles = sys.argv[1:]
    print(json.dumps(asyncio.run(infer(mode, target, titles))))
