//! The sandbox checked against Business Central's real `$metadata` ([`spec_oracle::metadata`]):
//! every request on the standard route names an entity set `$metadata` has and sends a body its
//! type accepts (otherwise the sandbox answers Business Central's own 4xx), and every response
//! the sandbox sends matches `$metadata` (otherwise it answers 500 naming the violations and
//! records them, see [`super::Sandbox::spec_violations`]).

use serde_json::Value;
use spec_oracle::metadata::{Direction, Metadata, Violation, ViolationKind, check_error};

use super::odata::{Options, decode_query};
use super::store::{ApiErr, OpRequest, OpResponse, err, method_not_allowed};

/// What a request addresses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// A collection of an entity type (list, create).
    Collection(String),
    /// One entity of an entity type (read, update, delete).
    Entity(String),
    /// A bound action (`Microsoft.NAV.post`): no body, 204.
    Action,
    /// Something the oracle does not judge (an unknown path the store answers itself).
    Unknown,
}

fn name(seg: &str) -> &str {
    seg.split('(').next().unwrap_or(seg)
}

fn has_key(seg: &str) -> bool {
    seg.contains('(')
}

/// Resolves the path segments (after `/api/v2.0/`) to the entity type addressed; an entity set
/// or navigation property `$metadata` does not have is Business Central's 404.
pub(crate) fn target(md: &Metadata, req: &OpRequest) -> Result<Target, ApiErr> {
    let segs: Vec<&str> = req
        .segments
        .iter()
        .map(String::as_str)
        .filter(|s| !s.is_empty())
        .collect();
    let Some(first) = segs.first() else {
        return Ok(Target::Unknown);
    };
    let segment_missing = |seg: &str| {
        err(
            404,
            "BadRequest_ResourceNotFound",
            format!("Resource not found for the segment '{}'.", name(seg)),
        )
    };
    // `companies(id)/set...`, `set...?company=id`, `subscriptions...`, `companies`.
    let rest: &[&str] = match name(first) {
        "companies" if segs.len() == 1 => {
            return Ok(if has_key(first) {
                Target::Entity("company".into())
            } else {
                Target::Collection("company".into())
            });
        }
        "companies" => &segs[1..],
        _ => &segs[..],
    };
    let Some(set_seg) = rest.first() else {
        return Ok(Target::Unknown);
    };
    let set = md
        .entity_set(name(set_seg))
        .ok_or_else(|| segment_missing(set_seg))?;
    let mut ty = set.entity_type.clone();
    let mut single = has_key(set_seg);
    for seg in &rest[1..] {
        if let Some(action) = seg.strip_prefix("Microsoft.NAV.") {
            // Only the actions `$metadata` binds to this entity type exist.
            if !single || !md.bound_actions(&ty).contains(&action) {
                return Err(segment_missing(seg));
            }
            return Ok(Target::Action);
        }
        if !single {
            return Err(segment_missing(seg));
        }
        let nav = md
            .entity_type(&ty)
            .and_then(|t| t.navigation.get(name(seg)))
            .ok_or_else(|| segment_missing(seg))?;
        ty = nav.target.clone();
        single = !nav.collection || has_key(seg);
    }
    Ok(if single {
        Target::Entity(ty)
    } else {
        Target::Collection(ty)
    })
}

/// Checks the query options of a request: `$filter`, `$select` and `$orderby` name properties of
/// the entity type, `$expand` its navigation properties (nested options on the target type);
/// otherwise Business Central's 400 `BadRequest_NotFound`. Syntax errors are left to the store.
pub(crate) fn check_query(md: &Metadata, target: &Target, req: &OpRequest) -> Result<(), ApiErr> {
    let ty = match target {
        Target::Collection(t) | Target::Entity(t) if req.query.contains('$') => t,
        _ => return Ok(()),
    };
    match Options::parse(&decode_query(&req.query)) {
        Ok(opts) => check_options(md, ty, &opts),
        Err(_) => Ok(()),
    }
}

fn check_options(md: &Metadata, ty: &str, opts: &Options) -> Result<(), ApiErr> {
    let Some(et) = md.entity_type(ty) else {
        return Ok(());
    };
    let missing = |name: &str| {
        err(
            400,
            "BadRequest_NotFound",
            format!("Could not find a property named '{name}' on type 'Microsoft.NAV.{ty}'."),
        )
    };
    let fields = opts
        .filter
        .as_ref()
        .map(|f| f.field_names())
        .unwrap_or_default();
    for f in fields.iter().chain(opts.order_by.iter().map(|(f, _)| f)) {
        if !et.properties.contains_key(f.as_str()) {
            return Err(missing(f));
        }
    }
    for s in opts.select.iter().flatten() {
        if !et.properties.contains_key(s.as_str()) && !et.navigation.contains_key(s.as_str()) {
            return Err(missing(s));
        }
    }
    for (name, inner) in &opts.expand {
        let nav = et
            .navigation
            .get(name.as_str())
            .ok_or_else(|| missing(name))?;
        check_options(md, &nav.target, inner)?;
    }
    Ok(())
}

/// Checks an incoming request: the methods the set's capabilities allow and the body against the
/// entity type; answers the error Business Central gives.
pub(crate) fn check_request(md: &Metadata, target: &Target, req: &OpRequest) -> Result<(), ApiErr> {
    let (ty, method) = match target {
        Target::Collection(t) | Target::Entity(t) => (t.as_str(), req.method.as_str()),
        Target::Action | Target::Unknown => return Ok(()),
    };
    let set = md
        .entity_sets
        .values()
        .find(|s| s.entity_type == ty && s.name != "entityDefinitions");
    let allowed = match (method, set) {
        ("POST", Some(s)) => s.insertable,
        ("PATCH" | "PUT", Some(s)) => s.updatable,
        ("DELETE", Some(s)) => s.deletable,
        _ => true,
    };
    if !allowed {
        return Err(method_not_allowed(method, ty));
    }
    let Some(body) = &req.body else {
        return Ok(());
    };
    if !matches!(method, "POST" | "PATCH" | "PUT") {
        return Ok(());
    }
    if !body.is_object() {
        return Err(err(
            400,
            "BadRequest",
            "Invalid Request Body: an entity must be a JSON object.",
        ));
    }
    let found = md.check_entity(ty, body, Direction::Request);
    match found.into_iter().next() {
        None => Ok(()),
        Some(v) => Err(request_error(md, ty, &v, body)),
    }
}

/// Business Central's answer to one violation in a request body.
fn request_error(md: &Metadata, ty: &str, v: &Violation, body: &Value) -> ApiErr {
    let prop = v.path.rsplit('.').next().unwrap_or(&v.path);
    let prop = prop.split('[').next().unwrap_or(prop);
    let value = lookup(body, &v.path);
    match v.kind {
        ViolationKind::UnknownProperty => err(
            400,
            "BadRequest",
            format!(
                "The property '{prop}' does not exist on type 'Microsoft.NAV.{ty}'. Make sure to only use property names that are defined by the type."
            ),
        ),
        ViolationKind::ReadOnly => err(
            400,
            "BadRequest_InvalidOperation",
            format!("The property '{prop}' is read-only."),
        ),
        ViolationKind::TooLong => {
            let text = value.and_then(Value::as_str).unwrap_or("");
            let max = md
                .entity_type(ty)
                .and_then(|t| t.properties.get(prop))
                .and_then(|p| p.max_length)
                .unwrap_or(0);
            err(
                400,
                "Application_StringExceededLength",
                format!(
                    "The length of the string is {}, but it must be less than or equal to {max} characters. Value: {text}",
                    text.chars().count()
                ),
            )
        }
        ViolationKind::NotAnEnumMember => {
            let captions: Vec<String> = md
                .entity_type(ty)
                .and_then(|t| t.properties.get(prop))
                .and_then(|p| {
                    md.enum_types
                        .get(p.type_name.trim_start_matches("Microsoft.NAV."))
                })
                .map(|e| {
                    e.members
                        .iter()
                        .map(|(m, _)| crate::values::decode_member_name(m))
                        .collect()
                })
                .unwrap_or_default();
            err(
                400,
                "Unknown",
                format!(
                    "'{}' is not an option. The existing options are: {}",
                    value.and_then(Value::as_str).unwrap_or(""),
                    captions.join(",")
                ),
            )
        }
        _ => err(
            400,
            "BadRequest",
            format!(
                "Cannot convert the literal '{}' to the expected type of property '{prop}'.",
                value.map(Value::to_string).unwrap_or_default()
            ),
        ),
    }
}

/// The value at a violation path (`lines[0].quantity`).
fn lookup<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    let mut v = body;
    for part in path.split('.') {
        let (key, index) = match part.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        v = v.get(key)?;
        if let Some(i) = index {
            v = v.get(i)?;
        }
    }
    Some(v)
}

/// Checks the sandbox's own answer to a request: the status the method answers with and the body
/// against `$metadata` (or the error shape).
pub(crate) fn check_response(
    md: &Metadata,
    target: &Target,
    req: &OpRequest,
    result: &Result<OpResponse, ApiErr>,
) -> Vec<String> {
    let resp = match result {
        Err(e) => {
            let mut out: Vec<String> = check_error(&e.body("00000000-0000-0000-0000-000000000000"))
                .iter()
                .map(ToString::to_string)
                .collect();
            if !(400..600).contains(&e.status) {
                out.push(format!("an error answered with status {}", e.status));
            }
            return out;
        }
        Ok(r) => r,
    };
    let mut out = Vec::new();
    let expected = match (req.method.as_str(), target) {
        ("GET", _) => 200,
        ("POST", Target::Collection(_)) => 201,
        ("POST", Target::Action) | ("DELETE", _) => 204,
        ("PATCH" | "PUT", _) => 200,
        _ => resp.status,
    };
    if resp.status != expected {
        out.push(format!(
            "{} answered {} where Business Central answers {expected}",
            req.method, resp.status
        ));
    }
    let violations = match (target, &resp.body) {
        (Target::Collection(ty), Some(body)) if req.method == "GET" => {
            md.check_collection(ty, body)
        }
        (Target::Collection(ty) | Target::Entity(ty), Some(body)) => {
            md.check_entity(ty, body, Direction::Response)
        }
        (Target::Collection(_) | Target::Entity(_) | Target::Action, None) if expected != 204 => {
            out.push(format!("{} answered no body", req.method));
            Vec::new()
        }
        (Target::Action, Some(_)) => {
            out.push("a bound action answered a body".into());
            Vec::new()
        }
        _ => Vec::new(),
    };
    out.extend(violations.iter().map(ToString::to_string));
    out
}
