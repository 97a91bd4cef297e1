//! Lightspeed's OpenAPI 3.0 documents as JSON Schema validators.
