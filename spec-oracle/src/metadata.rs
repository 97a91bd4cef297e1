//! Business Central's OData `$metadata` (CSDL) as a checker of entity bodies.
