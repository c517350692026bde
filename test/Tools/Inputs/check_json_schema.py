"""Validates a JSON document (stdin) against a JSON Schema, with no third-party package.

usage: check_json_schema.py SCHEMA.json [--doc FILE.md]

Implements the keywords qcc's schemas use (docs/schema/*.json): type, enum, properties,
additionalProperties (boolean), required, dependentRequired, items, minimum, exclusiveMinimum,
$ref to "#/$defs/NAME"; any other keyword in the schema is an error, so a schema cannot silently
use something unchecked here. With --doc, every property name in the schema must also appear in
backquotes in FILE.md (the documentation of the keys).
"""
import argparse
import json
import re
import sys

KNOWN = {"$schema", "$id", "$defs", "title", "description", "type", "enum", "properties",
         "additionalProperties", "required", "dependentRequired", "items", "minimum",
         "exclusiveMinimum", "$ref"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def validate(root, schema, value, path, errors):
    unknown = set(schema) - KNOWN
    if unknown:
        sys.exit("check_json_schema: unsupported schema keywords %s" % sorted(unknown))
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/"):
            sys.exit("check_json_schema: unsupported $ref %r" % ref)
        schema = root["$defs"][ref[len("#/$defs/"):]]
        return validate(root, schema, value, path, errors)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](value) for t in types):
            errors.append("%s: %r is not of type %s" % (path, value, "/".join(types)))
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r is not one of %r" % (path, value, schema["enum"]))
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        errors.append("%s: %r < minimum %r" % (path, value, schema["minimum"]))
    if "exclusiveMinimum" in schema and TYPES["number"](value) \
            and value <= schema["exclusiveMinimum"]:
        errors.append("%s: %r <= exclusiveMinimum %r" % (path, value, schema["exclusiveMinimum"]))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append("%s: missing required key %r" % (path, key))
        for key, needs in schema.get("dependentRequired", {}).items():
            if key in value:
                for need in needs:
                    if need not in value:
                        errors.append("%s: %r present without %r" % (path, key, need))
        for key, v in value.items():
            if key in props:
                validate(root, props[key], v, "%s.%s" % (path, key), errors)
            elif schema.get("additionalProperties", True) is False:
                errors.append("%s: key %r is not in the schema" % (path, key))
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            validate(root, schema["items"], v, "%s[%d]" % (path, i), errors)


def property_names(schema, names):
    if isinstance(schema, dict):
        for key, sub in schema.get("properties", {}).items():
            names.add(key)
            property_names(sub, names)
        for sub in schema.get("$defs", {}).values():
            property_names(sub, names)
        if "items" in schema:
            property_names(schema["items"], names)
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("schema")
    ap.add_argument("--doc")
    args = ap.parse_args()
    with open(args.schema) as f:
        schema = json.load(f)
    value = json.load(sys.stdin)
    errors = []
    validate(schema, schema, value, "$", errors)
    if args.doc:
        with open(args.doc) as f:
            doc = f.read()
        for name in sorted(property_names(schema, set())):
            # `name`, or a dotted path ending in it: `batched[].batch`, `concurrent[].waves`.
            if not re.search(r"`(?:[\w\[\]]+\.)?%s`" % re.escape(name), doc):
                errors.append("%s: key %r is not documented" % (args.doc, name))
    if errors:
        sys.exit("check_json_schema: " + "\n".join(errors))
    print("schema ok")


if __name__ == "__main__":
    main()
