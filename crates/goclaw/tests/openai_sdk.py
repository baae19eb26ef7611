"""Drives goclaw's /v1/chat/completions with the official openai SDK: one streamed and one
non-streamed completion. Usage: openai_sdk.py BASE_URL. Prints one JSON line with what it got."""
import json
import sys

from openai import OpenAI

client = OpenAI(base_url=sys.argv[1], api_key="unused-without-gateway-token")

stream = client.chat.completions.create(
    model="goclaw:default",
    messages=[{"role": "user", "content": "stream please"}],
    stream=True,
    user="sdk-user",
)
pieces = []
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)

whole = client.chat.completions.create(
    model="goclaw:default",
    messages=[{"role": "user", "content": "all at once"}],
    user="sdk-user",
)

print(json.dumps({
    "streamed": "".join(pieces),
    "stream_pieces": len(pieces),
    "completion": whole.choices[0].message.content,
    "finish_reason": whole.choices[0].finish_reason,
    "object": whole.object,
}))
