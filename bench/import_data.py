#!/usr/bin/env python3
"""A synthetic ChatGPT conversations.json for bench/import.sh, shaped like the real export.

  import_data.py SAMPLE OUT MBYTES [SEED]

SAMPLE is a real ChatGPT export (../shared/formats/chatgpt/openwebui-importer_gpt_example.json):
its first conversation gives the top-level keys and the shape of every node (the null root,
the hidden system message, user and assistant messages with their metadata, as the app wrote
them). Each generated conversation is that shape with fresh ids and times, a current branch of
2..12 visible messages (mean ~6), every fourth conversation with a regenerated (side-branch)
reply, and English-like text (user ~40..300 chars, assistant ~150..1,200). Written as one
top-level array, streamed, until OUT holds about MBYTES megabytes. Prints the conversation
count and the bytes written.
"""
import copy
import json
import random
import sys

WORDS = ("the of and to in is you that it he was for on are as with his they at be this have "
         "from or one had by word but not what all were we when your can said there use an each "
         "which she do how their if will up other about out many then them these so some her "
         "would make like him into time has look two more write go see number no way could "
         "people my than first water been call who oil its now find long down day did get come "
         "made may part photosynthesis chlorophyll sunlight garden recipe travel budget python "
         "function error server database query index memory network latency kyoto").split()


def text(rng, lo, hi):
    n = rng.randint(lo, hi)
    out, size = [], 0
    while size < n:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    s = " ".join(out)
    return s[0].upper() + s[1:] + "."


def main():
    sample, out_path, mbytes = sys.argv[1], sys.argv[2], float(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 12)
    with open(sample) as f:
        data = json.load(f)
    tpl = data[0] if isinstance(data, list) else data
    nodes = list(tpl["mapping"].values())
    root = next(n for n in nodes if n.get("message") is None)
    sysn = next(n for n in nodes if n.get("message") and n["message"]["author"]["role"] == "system")
    usern = next(n for n in nodes if n.get("message") and n["message"]["author"]["role"] == "user"
                 and n["message"]["content"].get("content_type") == "text")
    asstn = next(n for n in nodes if n.get("message") and n["message"]["author"]["role"] == "assistant"
                 and n["message"]["content"].get("content_type") == "text")
    top = {k: v for k, v in tpl.items() if k != "mapping"}
    limit = int(mbytes * 1e6)
    written, count = 0, 0
    with open(out_path, "w") as out:
        out.write("[")
        written += 1
        while written < limit:
            cid = "%08x-bench-4000-8000-%012x" % (rng.getrandbits(32), count)
            t0 = 1.6e9 + count * 3600.0 + rng.random()
            mapping, order = {}, []

            def add(shape, parent, role_text, t):
                nid = "%s-n%d" % (cid, len(mapping))
                n = copy.deepcopy(shape)
                n["id"] = nid
                n["parent"] = parent
                n["children"] = []
                if n.get("message"):
                    n["message"]["id"] = nid
                    n["message"]["create_time"] = t
                    if role_text is not None:
                        n["message"]["content"]["parts"] = [role_text]
                mapping[nid] = n
                if parent:
                    mapping[parent]["children"].append(nid)
                return nid

            r = add(root, None, None, None)
            cur = add(sysn, r, None, None)
            nvis = 2 * rng.randint(1, 6)
            t = t0
            for i in range(nvis):
                t += rng.uniform(5, 120)
                if i % 2 == 0:
                    cur = add(usern, cur, text(rng, 40, 300), t)
                else:
                    if count % 4 == 0 and i == 1:
                        add(asstn, cur, text(rng, 150, 1200), t)    # the reply regenerated
                    cur = add(asstn, cur, text(rng, 150, 1200), t + 1)
            conv = dict(top)
            conv["title"] = text(rng, 10, 40)[:-1]
            conv["create_time"] = t0
            conv["update_time"] = t
            conv["mapping"] = mapping
            conv["current_node"] = cur
            conv["conversation_id"] = cid
            conv["id"] = cid
            s = ("," if count else "") + json.dumps(conv, ensure_ascii=False)
            out.write(s)
            written += len(s.encode())
            count += 1
        out.write("]")
        written += 1
    print("conversations=%d bytes=%d" % (count, written))


if __name__ == "__main__":
    main()
