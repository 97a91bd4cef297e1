//! Business Central's OData `$metadata` (CSDL) as a checker of entity bodies.
//!
//! [`Metadata::parse`] reads an EDMX document (namespace `Microsoft.NAV`): entity types with their
//! properties (Edm type, `Nullable`, `MaxLength`, `Precision`/`Scale`) and navigation properties,
//! enum types with their members, complex types, entity sets with their insert/update/delete
//! capabilities, and bound actions. [`metadata`] parses the reference copy
//! (`business-central/metadata/api-v2.0-metadata.xml` under [`crate::reference_dir`]) once per
//! process.
//!
//! [`Metadata::check_entity`] checks one JSON entity against its type: every property exists
//! (OData annotations aside), values have the Edm type (enum values are the encoded member names
//! such as `_x0020_`), `null` only where the property is nullable, strings within `MaxLength`,
//! expanded navigation properties recursively. Responses must carry `@odata.etag`; requests must
//! not set what Business Central does not let a client write (keys and the fields
//! `business-central.md` §6 marks read-only, see [`READ_ONLY`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

/// The reference `$metadata`, relative to the reference folder.
pub const METADATA_PATH: &str = "business-central/metadata/api-v2.0-metadata.xml";

/// The schema namespace of the API v2.0 types.
pub const NAMESPACE: &str = "Microsoft.NAV";

/// Properties a client cannot write although `$metadata` has no annotation saying so, per entity
/// type (`*` = every type), from `business-central.md` §6 ("RO" in the field tables, taken from
/// the AL API pages). Conservative: a field the docs mark read-only but that an official request
/// example sends (`number`, `customerName` on sales documents) is not listed. Keys come on top.
pub const READ_ONLY: &[(&str, &[&str])] = &[
    (
        "*",
        &[
            "lastModifiedDateTime",
            "systemCreatedAt",
            "systemCreatedBy",
            "systemModifiedAt",
            "systemModifiedBy",
        ],
    ),
    ("customer", &["balanceDue", "taxAreaDisplayName"]),
    (
        "salesOrder",
        &[
            "status",
            "totalAmountExcludingTax",
            "totalTaxAmount",
            "totalAmountIncludingTax",
            "billToName",
            "billToAddressLine1",
            "billToAddressLine2",
            "billToCity",
            "billToCountry",
            "billToState",
            "billToPostCode",
        ],
    ),
    (
        "salesInvoice",
        &[
            "totalAmountExcludingTax",
            "totalTaxAmount",
            "totalAmountIncludingTax",
        ],
    ),
    ("salesOrderLine", LINE_READ_ONLY),
    ("salesInvoiceLine", LINE_READ_ONLY),
];

const LINE_READ_ONLY: &[&str] = &[
    "amountExcludingTax",
    "taxPercent",
    "totalTaxAmount",
    "amountIncludingTax",
    "invoiceDiscountAllocation",
    "netAmount",
    "netTaxAmount",
    "netAmountIncludingTax",
];

/// Entity types whose real responses carry no `@odata.etag`: the recorded `GET /companies`
/// (`examples/real/tfenster-wiremock/mappings/companies.json`) and the documented one have none.
pub const NO_ETAG: &[&str] = &["company"];

/// OData control annotations an entity or a collection may carry.
const CONTROL: &[&str] = &[
    "@odata.context",
    "@odata.etag",
    "@odata.nextLink",
    "@odata.count",
    "@odata.id",
    "@odata.editLink",
    "@odata.readLink",
    "@odata.type",
    "@odata.deltaLink",
    "@odata.metadataEtag",
];

/// Whether a body is a response the service sent or a request a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A response body: `@odata.etag` is required, every property may appear.
    Response,
    /// A request body: keys and read-only properties are refused.
    Request,
}

/// What is wrong with a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViolationKind {
    /// The entity set or type is not in `$metadata`.
    UnknownType,
    /// A property the type does not have.
    UnknownProperty,
    /// A value of the wrong JSON/Edm type.
    WrongType,
    /// A string that is not a member of the enum type.
    NotAnEnumMember,
    /// `null` where `Nullable="false"`.
    NotNullable,
    /// A string longer than `MaxLength`.
    TooLong,
    /// A response entity without `@odata.etag`.
    MissingEtag,
    /// A request that sets a key or a read-only property.
    ReadOnly,
    /// A body that is not shaped as the API answers (not an object, no `value` array, error shape).
    Shape,
}

/// One finding: where (a JSON path such as `value[3].salesOrderLines[0].quantity`), what, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where in the body.
    pub path: String,
    /// The kind of problem.
    pub kind: ViolationKind,
    /// A human-readable explanation naming the type and the expectation.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(body)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// A structural property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// The property name.
    pub name: String,
    /// The type as written, e.g. `Edm.String`, `Microsoft.NAV.customerBlocked`, `Collection(...)`.
    pub type_name: String,
    /// `false` when `Nullable="false"`.
    pub nullable: bool,
    /// `MaxLength`, when numeric.
    pub max_length: Option<usize>,
    /// `Precision`, when given.
    pub precision: Option<u32>,
    /// `Scale` as written (`Variable` or a number), when given.
    pub scale: Option<String>,
}

/// A navigation property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Navigation {
    /// The navigation property name.
    pub name: String,
    /// The target entity type (unqualified).
    pub target: String,
    /// Whether it is a collection.
    pub collection: bool,
}

/// An entity or complex type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityType {
    /// The type name (unqualified), e.g. `customer`.
    pub name: String,
    /// Key property names (empty for complex types).
    pub key: Vec<String>,
    /// Structural properties by name.
    pub properties: BTreeMap<String, Property>,
    /// Navigation properties by name.
    pub navigation: BTreeMap<String, Navigation>,
}

/// An enum type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnumType {
    /// The type name (unqualified).
    pub name: String,
    /// Members in document order: (encoded name, value).
    pub members: Vec<(String, i64)>,
}

impl EnumType {
    /// Whether `name` (an encoded member name such as `_x0020_`) is a member.
    pub fn has(&self, name: &str) -> bool {
        self.members.iter().any(|(m, _)| m == name)
    }
}

/// An entity set: its type and what its capabilities annotations allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitySet {
    /// The set name, e.g. `customers`.
    pub name: String,
    /// The entity type (unqualified).
    pub entity_type: String,
    /// `InsertRestrictions/Insertable` (default `true`).
    pub insertable: bool,
    /// `UpdateRestrictions/Updatable` (default `true`).
    pub updatable: bool,
    /// `DeleteRestrictions/Deletable` (default `true`).
    pub deletable: bool,
}

/// A bound action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundAction {
    /// The action name, e.g. `post`.
    pub name: String,
    /// The binding entity type (unqualified).
    pub binding: String,
}

/// A parsed `$metadata` document.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// Entity types by name.
    pub entity_types: HashMap<String, EntityType>,
    /// Complex types by name.
    pub complex_types: HashMap<String, EntityType>,
    /// Enum types by name.
    pub enum_types: HashMap<String, EnumType>,
    /// Entity sets by name.
    pub entity_sets: HashMap<String, EntitySet>,
    /// Bound actions.
    pub actions: Vec<BoundAction>,
}

static METADATA: OnceLock<Option<Metadata>> = OnceLock::new();

/// The reference `$metadata`, parsed once per process; `None` when the reference folder is missing
/// (or the file cannot be read, which is reported on stderr once).
pub fn metadata() -> Option<&'static Metadata> {
    METADATA
        .get_or_init(|| {
            let dir = crate::reference_dir()?;
            match Metadata::load(&dir.join(METADATA_PATH)) {
                Ok(m) => Some(m),
                Err(e) => {
                    eprintln!("spec-oracle: {e}");
                    None
                }
            }
        })
        .as_ref()
}

/// The reference `$metadata` for a contract test: `None` only when the user opted out
/// (`POS_SYNC_SKIP_SPEC_TESTS=1`); panics naming the path when it is missing or unreadable.
pub fn require_metadata() -> Option<&'static Metadata> {
    let dir = crate::require_reference_dir()?;
    match metadata() {
        Some(m) => Some(m),
        None => panic!(
            "could not read Business Central $metadata at {}",
            dir.join(METADATA_PATH).display()
        ),
    }
}

fn unqualify(name: &str) -> &str {
    name.strip_prefix("Microsoft.NAV.").unwrap_or(name)
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// What the parser is inside of.
enum Scope {
    None,
    Type { complex: bool, ty: EntityType },
    Enum(EnumType),
    Set { set: EntitySet, term: String },
    Action(BoundAction),
}

impl Metadata {
    /// Reads and parses a `$metadata` file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let xml = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&xml).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses an EDMX `$metadata` document.
    pub fn parse(xml: &str) -> Result<Self, String> {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().trim_text(true);
        let mut md = Metadata::default();
        let mut scope = Scope::None;
        let mut in_key = false;
        loop {
            let event = reader
                .read_event()
                .map_err(|e| format!("XML error at {}: {e}", reader.buffer_position()))?;
            let (e, empty) = match &event {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(end) => {
                    match end.local_name().as_ref() {
                        b"EntityType" | b"ComplexType" | b"EnumType" | b"EntitySet" | b"Action" => {
                            md.close(std::mem::replace(&mut scope, Scope::None));
                        }
                        b"Key" => in_key = false,
                        _ => {}
                    }
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            let name = attr(e, b"Name").unwrap_or_default();
            match e.local_name().as_ref() {
                tag @ (b"EntityType" | b"ComplexType") => {
                    scope = Scope::Type {
                        complex: tag == b"ComplexType",
                        ty: EntityType {
                            name,
                            ..Default::default()
                        },
                    };
                }
                b"Key" => in_key = !empty,
                b"PropertyRef" => {
                    if let (true, Scope::Type { ty, .. }) = (in_key, &mut scope) {
                        ty.key.push(name);
                    }
                }
                b"Property" => {
                    if let Scope::Type { ty, .. } = &mut scope {
                        let p = Property {
                            name: name.clone(),
                            type_name: attr(e, b"Type").unwrap_or_default(),
                            nullable: attr(e, b"Nullable").as_deref() != Some("false"),
                            max_length: attr(e, b"MaxLength").and_then(|m| m.parse().ok()),
                            precision: attr(e, b"Precision").and_then(|m| m.parse().ok()),
                            scale: attr(e, b"Scale"),
                        };
                        ty.properties.insert(name, p);
                    }
                }
                b"NavigationProperty" => {
                    if let Scope::Type { ty, .. } = &mut scope {
                        let t = attr(e, b"Type").unwrap_or_default();
                        let (collection, target) = match t
                            .strip_prefix("Collection(")
                            .and_then(|t| t.strip_suffix(')'))
                        {
                            Some(inner) => (true, unqualify(inner).to_owned()),
                            None => (false, unqualify(&t).to_owned()),
                        };
                        ty.navigation.insert(
                            name.clone(),
                            Navigation {
                                name,
                                target,
                                collection,
                            },
                        );
                    }
                }
                b"EnumType" => {
                    scope = Scope::Enum(EnumType {
                        name,
                        members: Vec::new(),
                    });
                }
                b"Member" => {
                    if let Scope::Enum(en) = &mut scope {
                        let value = attr(e, b"Value").and_then(|v| v.parse().ok()).unwrap_or(0);
                        en.members.push((name, value));
                    }
                }
                b"EntitySet" => {
                    let set = EntitySet {
                        name,
                        entity_type: unqualify(&attr(e, b"EntityType").unwrap_or_default())
                            .to_owned(),
                        insertable: true,
                        updatable: true,
                        deletable: true,
                    };
                    if empty {
                        md.entity_sets.insert(set.name.clone(), set);
                    } else {
                        scope = Scope::Set {
                            set,
                            term: String::new(),
                        };
                    }
                }
                b"Annotation" => {
                    if let Scope::Set { term, .. } = &mut scope {
                        *term = attr(e, b"Term").unwrap_or_default();
                    }
                }
                b"PropertyValue" => {
                    if let Scope::Set { set, .. } = &mut scope {
                        let on = attr(e, b"Bool").as_deref() != Some("false");
                        match attr(e, b"Property").as_deref() {
                            Some("Insertable") => set.insertable = on,
                            Some("Updatable") => set.updatable = on,
                            Some("Deletable") => set.deletable = on,
                            _ => {}
                        }
                    }
                }
                b"Action" => {
                    scope = Scope::Action(BoundAction {
                        name,
                        binding: String::new(),
                    });
                    if empty {
                        scope = Scope::None;
                    }
                }
                b"Parameter" => {
                    if let Scope::Action(a) = &mut scope
                        && a.binding.is_empty()
                        && name == "bindingParameter"
                    {
                        a.binding = unqualify(&attr(e, b"Type").unwrap_or_default()).to_owned();
                    }
                }
                _ => {}
            }
            if empty
                && matches!(
                    e.local_name().as_ref(),
                    b"EntityType" | b"ComplexType" | b"EnumType"
                )
            {
                md.close(std::mem::replace(&mut scope, Scope::None));
            }
        }
        if md.entity_types.is_empty() {
            return Err("no EntityType found: not a $metadata document".into());
        }
        Ok(md)
    }

    fn close(&mut self, scope: Scope) {
        match scope {
            Scope::Type { complex: false, ty } => {
                self.entity_types.insert(ty.name.clone(), ty);
            }
            Scope::Type { complex: true, ty } => {
                self.complex_types.insert(ty.name.clone(), ty);
            }
            Scope::Enum(en) => {
                self.enum_types.insert(en.name.clone(), en);
            }
            Scope::Set { set, .. } => {
                self.entity_sets.insert(set.name.clone(), set);
            }
            Scope::Action(a) if !a.binding.is_empty() => self.actions.push(a),
            Scope::Action(_) | Scope::None => {}
        }
    }

    /// The entity type of an entity set (`customers`) or the type itself (`customer`,
    /// `Microsoft.NAV.customer`).
    pub fn entity_type(&self, set_or_type: &str) -> Option<&EntityType> {
        let name = unqualify(set_or_type);
        self.entity_sets
            .get(name)
            .and_then(|s| self.entity_types.get(&s.entity_type))
            .or_else(|| self.entity_types.get(name))
    }

    /// An entity set by name.
    pub fn entity_set(&self, name: &str) -> Option<&EntitySet> {
        self.entity_sets.get(name)
    }

    /// The bound actions of an entity type (or of a set's type), e.g. `post` on `salesInvoice`.
    pub fn bound_actions(&self, set_or_type: &str) -> Vec<&str> {
        let Some(ty) = self.entity_type(set_or_type) else {
            return Vec::new();
        };
        self.actions
            .iter()
            .filter(|a| a.binding == ty.name)
            .map(|a| a.name.as_str())
            .collect()
    }

    /// Whether a client may not write `property` of `entity_type` (a key or a documented
    /// read-only field, see [`READ_ONLY`]).
    pub fn is_read_only(&self, entity_type: &str, property: &str) -> bool {
        let name = unqualify(entity_type);
        self.entity_types
            .get(name)
            .is_some_and(|t| t.key.iter().any(|k| k == property))
            || READ_ONLY
                .iter()
                .any(|(t, props)| (*t == "*" || *t == name) && props.contains(&property))
    }

    /// Checks one entity (a JSON object) against the type of `set_or_type`.
    pub fn check_entity(
        &self,
        set_or_type: &str,
        value: &Value,
        direction: Direction,
    ) -> Vec<Violation> {
        let mut out = Vec::new();
        match self.entity_type(set_or_type) {
            Some(ty) => self.entity(ty, value, direction, "", &mut out),
            None => out.push(Violation {
                path: String::new(),
                kind: ViolationKind::UnknownType,
                message: format!("no entity set or type '{set_or_type}' in $metadata"),
            }),
        }
        out
    }

    /// Checks a collection response `{"@odata.context", "value": [...], "@odata.nextLink"?}`
    /// whose rows are entities of `set_or_type`.
    pub fn check_collection(&self, set_or_type: &str, value: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        let Some(obj) = value.as_object() else {
            return vec![shape("", "a collection response must be a JSON object")];
        };
        for (k, v) in obj {
            match k.as_str() {
                "value" => {}
                "@odata.nextLink" | "@odata.context" | "@odata.deltaLink" => {
                    if !v.is_string() {
                        out.push(wrong(k, "a string", v));
                    }
                }
                "@odata.count" => {
                    if !v.is_u64() {
                        out.push(wrong(k, "an integer", v));
                    }
                }
                _ => out.push(Violation {
                    path: k.clone(),
                    kind: ViolationKind::UnknownProperty,
                    message: format!("'{k}' is not part of a collection response"),
                }),
            }
        }
        let Some(rows) = obj.get("value").and_then(Value::as_array) else {
            out.push(shape(
                "value",
                "a collection response needs a 'value' array",
            ));
            return out;
        };
        let Some(ty) = self.entity_type(set_or_type) else {
            out.push(Violation {
                path: String::new(),
                kind: ViolationKind::UnknownType,
                message: format!("no entity set or type '{set_or_type}' in $metadata"),
            });
            return out;
        };
        for (i, row) in rows.iter().enumerate() {
            let start = out.len();
            self.entity(ty, row, Direction::Response, "", &mut out);
            if out.len() > start {
                prefix(&mut out[start..], &format!("value[{i}]"));
            }
        }
        out
    }

    fn entity(
        &self,
        ty: &EntityType,
        value: &Value,
        direction: Direction,
        path: &str,
        out: &mut Vec<Violation>,
    ) {
        let Some(obj) = value.as_object() else {
            out.push(shape(
                path,
                &format!("a '{}' entity must be a JSON object", ty.name),
            ));
            return;
        };
        let at = |k: &str| {
            if path.is_empty() {
                k.to_owned()
            } else {
                format!("{path}.{k}")
            }
        };
        if direction == Direction::Response
            && !ty.key.is_empty()
            && !NO_ETAG.contains(&ty.name.as_str())
        {
            match obj.get("@odata.etag") {
                Some(Value::String(_)) => {}
                Some(v) => out.push(wrong(&at("@odata.etag"), "a string", v)),
                None => out.push(Violation {
                    path: at("@odata.etag"),
                    kind: ViolationKind::MissingEtag,
                    message: format!("a '{}' entity in a response carries '@odata.etag'", ty.name),
                }),
            }
        }
        for (k, v) in obj {
            if let Some((base, _)) = k.split_once('@') {
                // `@odata.*` control information, or `property@odata.*` annotations of a property.
                let known = if base.is_empty() {
                    CONTROL.contains(&k.as_str()) || k.starts_with("@odata.")
                } else {
                    ty.properties.contains_key(base) || ty.navigation.contains_key(base)
                };
                if !known {
                    out.push(unknown(&at(k), ty, k));
                }
                continue;
            }
            if let Some(p) = ty.properties.get(k) {
                if direction == Direction::Request && self.is_read_only(&ty.name, k) {
                    out.push(Violation {
                        path: at(k),
                        kind: ViolationKind::ReadOnly,
                        message: format!(
                            "'{k}' of '{}' is read-only: Business Central refuses to set it",
                            ty.name
                        ),
                    });
                }
                // Paths are built only for what is wrong: this runs for every property.
                let start = out.len();
                self.property(p, v, "", out);
                if out.len() > start {
                    prefix(&mut out[start..], &at(k));
                }
            } else if let Some(n) = ty.navigation.get(k) {
                let Some(target) = self.entity_types.get(&n.target) else {
                    continue;
                };
                match (n.collection, v) {
                    (true, Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            self.entity(target, item, direction, &format!("{}[{i}]", at(k)), out);
                        }
                    }
                    (true, other) => {
                        out.push(wrong(&at(k), "an array (collection navigation)", other))
                    }
                    (false, Value::Null) => {}
                    (false, other) => self.entity(target, other, direction, &at(k), out),
                }
            } else {
                out.push(unknown(&at(k), ty, k));
            }
        }
    }

    fn property(&self, p: &Property, v: &Value, path: &str, out: &mut Vec<Violation>) {
        if v.is_null() {
            if !p.nullable {
                out.push(Violation {
                    path: path.to_owned(),
                    kind: ViolationKind::NotNullable,
                    message: format!("'{}' is Nullable=\"false\" but is null", p.name),
                });
            }
            return;
        }
        if let Some(inner) = p
            .type_name
            .strip_prefix("Collection(")
            .and_then(|t| t.strip_suffix(')'))
        {
            let Value::Array(items) = v else {
                out.push(wrong(path, &format!("an array of {inner}"), v));
                return;
            };
            let item = Property {
                type_name: inner.to_owned(),
                nullable: true,
                ..p.clone()
            };
            for (i, it) in items.iter().enumerate() {
                self.property(&item, it, &format!("{path}[{i}]"), out);
            }
            return;
        }
        let ty = p.type_name.as_str();
        let ok = match ty {
            "Edm.String" => {
                if let (Some(max), Some(s)) = (p.max_length, v.as_str()) {
                    let len = s.chars().count();
                    if len > max {
                        out.push(Violation {
                            path: path.to_owned(),
                            kind: ViolationKind::TooLong,
                            message: format!(
                                "'{}' has {len} characters, MaxLength is {max}",
                                p.name
                            ),
                        });
                    }
                }
                v.is_string()
            }
            "Edm.Guid" => v.as_str().is_some_and(is_guid),
            "Edm.Date" => v.as_str().is_some_and(is_date),
            "Edm.DateTimeOffset" => v.as_str().is_some_and(is_date_time),
            "Edm.TimeOfDay" => v.as_str().is_some_and(is_time),
            "Edm.Duration" | "Edm.Binary" | "Edm.Stream" => v.is_string(),
            "Edm.Decimal" | "Edm.Double" | "Edm.Single" => v.is_number(),
            "Edm.Int16" | "Edm.Int32" => v.as_i64().is_some_and(|n| {
                i32::try_from(n).is_ok() && (ty == "Edm.Int32" || i16::try_from(n).is_ok())
            }),
            "Edm.Int64" => v.is_i64() || v.is_u64(),
            "Edm.Byte" => v.as_u64().is_some_and(|n| n <= 255),
            "Edm.Boolean" => v.is_boolean(),
            other => {
                let name = unqualify(other);
                if let Some(en) = self.enum_types.get(name) {
                    match v.as_str() {
                        Some(s) if en.has(s) => {}
                        Some(s) => out.push(Violation {
                            path: path.to_owned(),
                            kind: ViolationKind::NotAnEnumMember,
                            message: format!(
                                "'{s}' is not a member of enum '{name}' (members: {})",
                                en.members
                                    .iter()
                                    .map(|(m, _)| m.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        }),
                        None => {
                            out.push(wrong(path, &format!("a member name of enum '{name}'"), v))
                        }
                    }
                    return;
                }
                if let Some(ct) = self.complex_types.get(name) {
                    self.entity(ct, v, Direction::Response, path, out);
                    return;
                }
                // A type this checker does not know: nothing to say.
                true
            }
        };
        if !ok {
            out.push(wrong(path, ty, v));
        }
    }
}

/// Puts `base` in front of the (relative) paths of `found`.
fn prefix(found: &mut [Violation], base: &str) {
    for v in found {
        v.path = if v.path.is_empty() {
            base.to_owned()
        } else if v.path.starts_with('[') {
            format!("{base}{}", v.path)
        } else {
            format!("{base}.{}", v.path)
        };
    }
}

fn shape(path: &str, message: &str) -> Violation {
    Violation {
        path: path.to_owned(),
        kind: ViolationKind::Shape,
        message: message.to_owned(),
    }
}

fn unknown(path: &str, ty: &EntityType, k: &str) -> Violation {
    Violation {
        path: path.to_owned(),
        kind: ViolationKind::UnknownProperty,
        message: format!(
            "the property '{k}' does not exist on type 'Microsoft.NAV.{}'",
            ty.name
        ),
    }
}

fn wrong(path: &str, expected: &str, v: &Value) -> Violation {
    let mut shown = v.to_string();
    if shown.len() > 60 {
        let cut = (0..=60)
            .rev()
            .find(|i| shown.is_char_boundary(*i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push('…');
    }
    Violation {
        path: path.to_owned(),
        kind: ViolationKind::WrongType,
        message: format!("expected {expected}, found {shown}"),
    }
}

/// Checks Business Central's error body `{"error": {"code": "...", "message": "..."}}`: both
/// strings, nothing else.
pub fn check_error(value: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(error) = value
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("error"))
        .and_then(Value::as_object)
    else {
        return vec![shape(
            "",
            "an error body is {\"error\": {\"code\", \"message\"}} and nothing else",
        )];
    };
    for k in ["code", "message"] {
        match error.get(k) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(v) => out.push(wrong(&format!("error.{k}"), "a non-empty string", v)),
            None => out.push(shape(&format!("error.{k}"), "missing")),
        }
    }
    for k in error.keys().filter(|k| *k != "code" && *k != "message") {
        out.push(Violation {
            path: format!("error.{k}"),
            kind: ViolationKind::UnknownProperty,
            message: format!("'{k}' is not part of Business Central's error body"),
        });
    }
    out
}

fn all_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DD`.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let two = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
        && (1..=12).contains(&two(5))
        && (1..=31).contains(&two(8))
}

/// `hh:mm(:ss(.fff))`.
fn is_time(s: &str) -> bool {
    let (hms, frac) = s.split_once('.').unwrap_or((s, "0"));
    matches!(hms.len(), 5 | 8)
        && hms.bytes().enumerate().all(|(i, c)| match i {
            2 | 5 => c == b':',
            _ => c.is_ascii_digit(),
        })
        && !frac.is_empty()
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DDThh:mm(:ss(.fff))` followed by `Z` or `±hh:mm`.
fn is_date_time(s: &str) -> bool {
    let Some((date, rest)) = s.split_once('T') else {
        return false;
    };
    let time = if let Some(t) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
        t
    } else if rest.len() > 6 {
        let (t, zone) = rest.split_at(rest.len() - 6);
        let z = zone.as_bytes();
        if !(matches!(z[0], b'+' | b'-')
            && z[3] == b':'
            && all_digits(&zone[1..3], 2)
            && all_digits(&zone[4..], 2))
        {
            return false;
        }
        t
    } else {
        return false;
    };
    is_date(date) && is_time(time)
}

/// The members of an object that are not OData annotations.
pub fn data_properties(obj: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    obj.iter().filter(|(k, _)| !k.contains('@'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="Microsoft.NAV" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EnumType Name="customerBlocked">
        <Member Name="_x0020_" Value="0" />
        <Member Name="Ship" Value="1" />
      </EnumType>
      <EntityType Name="customer">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.Guid" Nullable="false" />
        <Property Name="number" Type="Edm.String" MaxLength="5" />
        <Property Name="blocked" Type="Microsoft.NAV.customerBlocked" />
        <Property Name="balanceDue" Type="Edm.Decimal" Scale="Variable" />
        <Property Name="since" Type="Edm.Date" />
        <Property Name="lastModifiedDateTime" Type="Edm.DateTimeOffset" />
        <Property Name="count" Type="Edm.Int32" />
        <Property Name="taxLiable" Type="Edm.Boolean" />
        <NavigationProperty Name="lines" Type="Collection(Microsoft.NAV.line)" ContainsTarget="true" />
      </EntityType>
      <EntityType Name="line">
        <Key><PropertyRef Name="id" /></Key>
        <Property Name="id" Type="Edm.Guid" Nullable="false" />
        <Property Name="quantity" Type="Edm.Decimal" Precision="38" Scale="20" />
      </EntityType>
      <Action Name="post" IsBound="true">
        <Parameter Name="bindingParameter" Type="Microsoft.NAV.customer" />
      </Action>
      <EntityContainer Name="NAV">
        <EntitySet Name="customers" EntityType="Microsoft.NAV.customer">
          <Annotation Term="Org.OData.Capabilities.V1.DeleteRestrictions">
            <Record><PropertyValue Property="Deletable" Bool="false" /></Record>
          </Annotation>
        </EntitySet>
        <EntitySet Name="lines" EntityType="Microsoft.NAV.line" />
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>"#;

    fn md() -> Metadata {
        Metadata::parse(XML).expect("parses")
    }

    const ID: &str = "f2a5738a-44e3-ea11-bb43-000d3a2feca1";

    #[test]
    fn parses_types_sets_enums_and_actions() {
        let md = md();
        let c = md
            .entity_type("customers")
            .expect("set resolves to its type");
        assert_eq!(c.name, "customer");
        assert_eq!(c.key, vec!["id"]);
        assert!(!c.properties["id"].nullable);
        assert_eq!(c.properties["number"].max_length, Some(5));
        assert_eq!(
            c.properties["balanceDue"].scale.as_deref(),
            Some("Variable")
        );
        assert!(c.navigation["lines"].collection);
        assert_eq!(
            md.entity_type("line")
                .map(|l| l.properties["quantity"].precision),
            Some(Some(38))
        );
        assert!(md.enum_types["customerBlocked"].has("_x0020_"));
        let set = md.entity_set("customers").expect("set");
        assert!(!set.deletable && set.insertable && set.updatable);
        assert_eq!(md.bound_actions("customers"), vec!["post"]);
    }

    #[test]
    fn a_valid_response_has_no_violation() {
        let v = json!({"@odata.etag": "W/\"x\"", "@odata.context": "c", "id": ID, "number": "C1",
            "blocked": "_x0020_", "balanceDue": 1.5, "since": "2024-01-31",
            "lastModifiedDateTime": "2024-01-31T10:00:00.123Z", "count": 3, "taxLiable": null,
            "lines": [{"@odata.etag": "W/\"y\"", "id": ID, "quantity": 2}]});
        assert_eq!(
            md().check_entity("customers", &v, Direction::Response),
            vec![]
        );
    }

    #[test]
    fn each_kind_of_mistake_is_named() {
        let md = md();
        let v = json!({"id": null, "number": "TOOLONG", "blocked": " ", "balanceDue": "1.5",
            "since": "2024-13-01", "lastModifiedDateTime": "yesterday", "count": 1.5,
            "taxLiable": "yes", "extra": 1, "lines": [{"id": "not-a-guid"}]});
        let found = md.check_entity("customer", &v, Direction::Response);
        let kinds: Vec<_> = found
            .iter()
            .map(|v| (v.path.as_str(), v.kind.clone()))
            .collect();
        use ViolationKind::*;
        for expected in [
            ("@odata.etag", MissingEtag),
            ("id", NotNullable),
            ("number", TooLong),
            ("blocked", NotAnEnumMember),
            ("balanceDue", WrongType),
            ("since", WrongType),
            ("lastModifiedDateTime", WrongType),
            ("count", WrongType),
            ("taxLiable", WrongType),
            ("extra", UnknownProperty),
            ("lines[0].@odata.etag", MissingEtag),
            ("lines[0].id", WrongType),
        ] {
            assert!(
                kinds.contains(&(expected.0, expected.1.clone())),
                "{expected:?} not in {found:#?}"
            );
        }
        assert_eq!(found.len(), 12, "{found:#?}");
    }

    #[test]
    fn requests_may_not_set_keys_or_read_only_fields() {
        let md = md();
        let ok = json!({"number": "C1", "blocked": "Ship", "lines": [{"quantity": 1}]});
        assert_eq!(
            md.check_entity("customers", &ok, Direction::Request),
            vec![]
        );
        let bad = json!({"id": ID, "balanceDue": 1, "lastModifiedDateTime": "2024-01-31T10:00:00Z",
            "lines": [{"id": ID}]});
        let found = md.check_entity("customers", &bad, Direction::Request);
        let paths: Vec<_> = found
            .iter()
            .filter(|v| v.kind == ViolationKind::ReadOnly)
            .map(|v| v.path.as_str())
            .collect();
        assert_eq!(
            paths,
            vec!["balanceDue", "id", "lastModifiedDateTime", "lines[0].id"]
        );
    }

    #[test]
    fn collections_and_errors() {
        let md = md();
        let page = json!({"@odata.context": "c", "@odata.nextLink": "n",
            "value": [{"@odata.etag": "e", "id": ID}]});
        assert_eq!(md.check_collection("customers", &page), vec![]);
        let bad = json!({"value": [{"id": ID}], "extra": 1});
        assert_eq!(md.check_collection("customers", &bad).len(), 2);
        assert_eq!(
            md.check_collection("nothing", &page)[0].kind,
            ViolationKind::UnknownType
        );
        assert!(check_error(&json!({"error": {"code": "BadRequest", "message": "m"}})).is_empty());
        assert_eq!(
            check_error(&json!({"error": {"code": 1, "message": "m", "x": 1}})).len(),
            2
        );
        assert_eq!(check_error(&json!({"message": "m"})).len(), 1);
    }

    #[test]
    fn literal_formats() {
        assert!(is_guid(ID) && !is_guid("f2a5738a44e3ea11bb43000d3a2feca1"));
        assert!(is_date("2024-02-29") && !is_date("2024-2-29"));
        for ok in [
            "2024-01-31T10:00:00Z",
            "2024-01-31T10:00:00.61Z",
            "2024-01-31T10:00:00+01:00",
            "0001-01-01T00:00:00Z",
        ] {
            assert!(is_date_time(ok), "{ok}");
        }
        for bad in ["2024-01-31", "2024-01-31T10:00:00", "2024-01-31T10Z"] {
            assert!(!is_date_time(bad), "{bad}");
        }
    }

    #[test]
    fn the_reference_metadata_parses_when_present() {
        let Some(md) = metadata() else {
            return;
        };
        assert_eq!(md.entity_types.len(), 87);
        assert_eq!(md.enum_types.len(), 34);
        assert_eq!(md.actions.len(), 21);
        let line = md.entity_type("salesOrderLines").expect("salesOrderLines");
        assert!(!line.properties.contains_key("lastModifiedDateTime"));
        assert!(md.enum_types["invoiceLineAggLineType"].has("Allocation_x0020_Account"));
        let companies = md.entity_set("companies").expect("companies");
        assert!(!companies.insertable && !companies.updatable && !companies.deletable);
        assert!(md.bound_actions("salesInvoices").contains(&"post"));
        assert!(md.is_read_only("salesOrderLine", "netAmount"));
        assert!(!md.is_read_only("salesOrderLine", "quantity"));
    }
}
