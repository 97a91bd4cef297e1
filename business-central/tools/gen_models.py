#!/usr/bin/env python3
"""Generates src/models/*.rs from the API v2.0 $metadata summary (run from the crate directory):
python3 tools/gen_models.py path/to/api-v2.0-entities-summary.json"""
import json, re, sys

summary = json.load(open(sys.argv[1]))
ET = summary['entityTypes']
ENUMS = summary['enumTypes']

def snake(name):
    s = re.sub(r'([a-z0-9])([A-Z])', r'\1_\2', name)
    s = re.sub(r'([A-Z]+)([A-Z][a-z])', r'\1_\2', s)
    s = s.lower()
    if s in ('type',):
        s = 'r#' + s
    return s

def caption(member):
    return re.sub(r'_x([0-9A-Fa-f]{4})_', lambda m: chr(int(m.group(1), 16)), member)

def variant(member):
    if member == '_x0020_':
        return 'Blank'
    words = re.findall(r'[A-Za-z0-9]+', caption(member))
    v = ''.join(w[0].upper() + w[1:] for w in words)
    if v == 'Other':
        v = 'OtherValue'
    return v

ENUM_NAMES = {
    'contactType': ('ContactType', 'Whether a customer or contact is a company or a person.'),
    'customerBlocked': ('CustomerBlocked', 'Which transactions are blocked for a customer (`_x0020_`: none).'),
    'contactBusinessRelation': ('ContactBusinessRelation', 'The business relation of a contact.'),
    'itemType': ('ItemType', 'The kind of item.'),
    'salesOrderEntityBufferStatus': ('SalesOrderStatus', 'The status of a sales order.'),
    'invoiceEntityAggregateStatus': ('SalesInvoiceStatus', 'The status of a sales invoice (draft or posted states).'),
    'invoiceLineAggLineType': ('LineType', 'The type of a sales document line.'),
    'itemLedgerEntryType': ('ItemLedgerEntryType', 'The type of an item ledger entry.'),
    'analysisSourceType': ('SourceType', 'The source type of an item ledger entry.'),
    'itemLedgerDocumentType': ('ItemLedgerDocumentType', 'The document type of an item ledger entry.'),
}

# name -> (Rust type, entity set, id type, read-only fields, writable, doc, nav)
COMMON_RO = ['id', 'lastModifiedDateTime']
TOTALS = ['totalAmountExcludingTax', 'totalTaxAmount', 'totalAmountIncludingTax']
BILL_TO = ['billToName', 'billToAddressLine1', 'billToAddressLine2', 'billToCity', 'billToCountry', 'billToState', 'billToPostCode']
LINE_RO = ['id', 'amountExcludingTax', 'taxPercent', 'totalTaxAmount', 'amountIncludingTax', 'invoiceDiscountAllocation',
           'netAmount', 'netTaxAmount', 'netAmountIncludingTax', 'shippedQuantity', 'invoicedQuantity']
ENTITIES = [
    ('company', 'Company', 'companies', 'CompanyId', ['*'], 'A company in the environment (read-only).', []),
    ('customer', 'Customer', 'customers', 'CustomerId', COMMON_RO + ['balanceDue', 'taxAreaDisplayName'], 'A customer.',
        [('paymentTerm', 'PaymentTerm', False), ('paymentMethod', 'PaymentMethod', False)]),
    ('contact', 'Contact', 'contacts', 'ContactId', COMMON_RO, 'A contact (company or person).', []),
    ('item', 'Item', 'items', 'ItemId', COMMON_RO, 'An item. `inventory` is the total on hand over all locations.',
        [('itemCategory', 'ItemCategory', False), ('itemVariants', 'ItemVariant', True),
         ('inventoryPostingGroup', 'InventoryPostingGroup', False), ('generalProductPostingGroup', 'GeneralProductPostingGroup', False)]),
    ('itemVariant', 'ItemVariant', 'itemVariants', 'ItemVariantId', COMMON_RO, 'A variant of an item.', [('item', 'Item', False)]),
    ('itemCategory', 'ItemCategory', 'itemCategories', 'ItemCategoryId', COMMON_RO, 'An item category.', []),
    ('salesOrder', 'SalesOrder', 'salesOrders', 'SalesOrderId',
        COMMON_RO + ['number', 'customerName', 'fullyShipped', 'status'] + BILL_TO + TOTALS, 'A sales order header.',
        [('customer', 'Customer', False), ('salesOrderLines', 'SalesOrderLine', True)]),
    ('salesOrderLine', 'SalesOrderLine', 'salesOrderLines', 'SalesOrderLineId', LINE_RO, 'A line of a sales order.',
        [('item', 'Item', False)]),
    ('salesInvoice', 'SalesInvoice', 'salesInvoices', 'SalesInvoiceId',
        COMMON_RO + ['number', 'customerName', 'orderId', 'orderNumber', 'remainingAmount', 'status'] + BILL_TO + TOTALS,
        'A sales invoice header (draft or posted).',
        [('customer', 'Customer', False), ('salesInvoiceLines', 'SalesInvoiceLine', True)]),
    ('salesInvoiceLine', 'SalesInvoiceLine', 'salesInvoiceLines', 'SalesInvoiceLineId', LINE_RO, 'A line of a sales invoice.',
        [('item', 'Item', False)]),
    ('paymentTerm', 'PaymentTerm', 'paymentTerms', 'PaymentTermId', COMMON_RO, 'Payment terms.', []),
    ('paymentMethod', 'PaymentMethod', 'paymentMethods', 'PaymentMethodId', COMMON_RO, 'A payment method.', []),
    ('location', 'Location', 'locations', 'LocationId', COMMON_RO, 'A location (warehouse or store).', []),
    ('itemLedgerEntry', 'ItemLedgerEntry', 'itemLedgerEntries', 'ItemLedgerEntryId', ['*'], 'An item ledger entry (read-only).', []),
    ('generalProductPostingGroup', 'GeneralProductPostingGroup', 'generalProductPostingGroups', 'GeneralProductPostingGroupId', ['*'],
        'A general product posting group (read-only).', []),
    ('inventoryPostingGroup', 'InventoryPostingGroup', 'inventoryPostingGroups', 'InventoryPostingGroupId', ['*'],
        'An inventory posting group (read-only).', []),
    ('subscriptions', 'Subscription', 'subscriptions', 'String',
        ['subscriptionId', 'timestamp', 'userId', 'lastModifiedDateTime', 'expirationDateTime',
         'systemCreatedAt', 'systemCreatedBy', 'systemModifiedAt', 'systemModifiedBy'],
        'A webhook subscription.', []),
]
FK = {
    'customerId': 'CustomerId', 'billToCustomerId': 'CustomerId', 'itemId': 'ItemId', 'itemCategoryId': 'ItemCategoryId',
    'paymentTermsId': 'PaymentTermId', 'paymentMethodId': 'PaymentMethodId', 'locationId': 'LocationId',
    'itemVariantId': 'ItemVariantId', 'generalProductPostingGroupId': 'GeneralProductPostingGroupId',
    'inventoryPostingGroupId': 'InventoryPostingGroupId', 'orderId': 'SalesOrderId',
}
DOC_ID = {'salesOrderLine': 'SalesOrderId', 'salesInvoiceLine': 'SalesInvoiceId'}
MODULE = {}

def field_info(ent, p):
    name, typ = p['name'], p['type']
    if typ == 'Edm.Guid':
        if name == 'id':
            return ('guid', [e for e in ENTITIES if e[0] == ent][0][3])
        if name == 'documentId' and ent in DOC_ID:
            return ('guid', DOC_ID[ent])
        return ('guid', FK.get(name, 'uuid::Uuid'))
    if typ == 'Edm.String':
        return ('string', 'String')
    if typ == 'Edm.Decimal':
        return ('decimal', 'Decimal')
    if typ == 'Edm.Boolean':
        return ('bool', 'bool')
    if typ == 'Edm.Int32':
        return ('int', 'i32')
    if typ == 'Edm.Int64':
        return ('int', 'i64')
    if typ == 'Edm.Date':
        return ('date', 'NaiveDate')
    if typ == 'Edm.DateTimeOffset':
        return ('datetime', 'DateTime<Utc>')
    if typ.startswith('Microsoft.NAV.'):
        en = typ[len('Microsoft.NAV.'):]
        return ('enum', ENUM_NAMES[en][0])
    raise Exception(typ)

def field_doc(p):
    d = f"`{p['name']}`"
    if p.get('maxLength'):
        d += f" (at most {p['maxLength']} characters)"
    return d + '.'

out_enums = ['//! Enumerations of the API v2.0 `$metadata`, with their encoded member names.', '', '#![allow(clippy::derivable_impls)]', '',
             '// Generated by tools/gen_models.py from the $metadata summary; do not edit by hand.', '',
             'use crate::values::bc_enum;', '']
for en, (rust, doc) in ENUM_NAMES.items():
    members = ENUMS[en]
    out_enums.append(f'bc_enum! {{\n    /// {doc}\n    {rust} {{')
    for m in members:
        out_enums.append(f'        /// `{m["name"]}` ("{caption(m["name"])}").\n        {variant(m["name"])} => "{m["name"]}",')
    out_enums.append('    }\n}\n')
    first = variant(members[0]['name'])
    out_enums.append(f'impl Default for {rust} {{\n    fn default() -> Self {{\n        Self::{first}\n    }}\n}}\n')
open('src/models/enums.rs', 'w').write('\n'.join(out_enums))

mods = []
for (ent, rust, eset, idt, ro, doc, nav) in ENTITIES:
    props = ET[ent]['properties']
    writable = ro != ['*']
    modname = snake(rust).replace('r#', '')
    mods.append((modname, rust, writable))
    L = [f'//! {doc}', '', '// Generated by tools/gen_models.py from the $metadata summary; do not edit by hand.', '',
         '#![allow(unused_imports)]', '',
         'use chrono::{DateTime, NaiveDate, Utc};', 'use rust_decimal::Decimal;', 'use serde::{Deserialize, Serialize};', '',
         'use crate::entity::{Entity, WritableEntity};', 'use crate::ids::*;', 'use crate::models::*;', 'use crate::values::{self, ETag};', '']
    L.append(f'/// {doc}')
    L.append('#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]')
    L.append('#[serde(rename_all = "camelCase")]')
    L.append(f'pub struct {rust} {{')
    L.append('    /// `@odata.etag`: send it back in `If-Match` to update or delete.')
    L.append('    #[serde(rename = "@odata.etag", default, skip_serializing_if = "Option::is_none")]')
    L.append('    pub etag: Option<ETag>,')
    for p in props:
        kind, ty = field_info(ent, p)
        fname = snake(p['name'])
        ren = f'rename = "{p["name"]}", '
        L.append(f'    /// {field_doc(p)}')
        if kind == 'guid':
            if ty == 'String':
                pass
            L.append(f'    #[serde({ren}default, deserialize_with = "values::opt_guid::deserialize", serialize_with = "values::opt_guid::serialize")]')
            L.append(f'    pub {fname}: Option<{ty}>,')
        elif kind == 'string':
            L.append(f'    #[serde({ren}default, deserialize_with = "values::null_default")]')
            L.append(f'    pub {fname}: String,')
        elif kind == 'decimal':
            L.append(f'    #[serde({ren}default, with = "values::decimal")]')
            L.append(f'    pub {fname}: Decimal,')
        elif kind in ('bool', 'int', 'enum'):
            L.append(f'    #[serde({ren}default, deserialize_with = "values::null_default")]')
            L.append(f'    pub {fname}: {ty},')
        elif kind == 'date':
            L.append(f'    #[serde({ren}default, with = "values::opt_date")]')
            L.append(f'    pub {fname}: Option<NaiveDate>,')
        elif kind == 'datetime':
            L.append(f'    #[serde({ren}default, with = "values::opt_datetime")]')
            L.append(f'    pub {fname}: Option<DateTime<Utc>>,')
    for (nname, ntype, coll) in nav:
        L.append(f'    /// `{nname}`, when expanded with `$expand={nname}`.')
        L.append(f'    #[serde(rename = "{nname}", default, skip_serializing_if = "Option::is_none")]')
        if coll:
            L.append(f'    pub {snake(nname)}: Option<Vec<{ntype}>>,')
        else:
            L.append(f'    pub {snake(nname)}: Option<Box<{ntype}>>,')
    L.append('}')
    L.append('')
    keyfield = ET[ent]['key'][0]
    maxl = [(p['name'], p['maxLength']) for p in props if p.get('maxLength')]
    L.append(f'impl {rust} {{')
    L.append('    /// Properties the server computes; they are never sent.')
    ro_list = [p['name'] for p in props] if ro == ['*'] else ro
    L.append('    pub const READ_ONLY: &\'static [&\'static str] = &[' + ', '.join(f'"{r}"' for r in ro_list) + '];')
    L.append('}')
    L.append('')
    L.append(f'impl Entity for {rust} {{')
    L.append(f'    const ENTITY_SET: &\'static str = "{eset}";')
    L.append('    const MAX_LENGTHS: &\'static [(&\'static str, usize)] = &[' + ', '.join(f'("{n}", {m})' for n, m in maxl) + '];')
    L.append(f'    type Id = {idt};')
    L.append(f'    fn entity_id(&self) -> Option<{idt}> {{')
    if idt == 'String':
        L.append(f'        Some(self.{snake(keyfield)}.clone()).filter(|k| !k.is_empty())')
    else:
        L.append(f'        self.{snake(keyfield)}')
    L.append('    }')
    L.append('    fn etag(&self) -> Option<&ETag> {')
    L.append('        self.etag.as_ref()')
    L.append('    }')
    L.append('}')
    L.append('')
    if writable:
        inp = rust + 'Input'
        L.append(f'/// The writable properties of a [`{rust}`] for a create or an update; only the fields that')
        L.append('/// are set are sent.')
        L.append('#[derive(Debug, Clone, Default, PartialEq, Serialize)]')
        L.append(f'pub struct {inp} {{')
        setters = []
        for p in props:
            if p['name'] in ro:
                continue
            kind, ty = field_info(ent, p)
            fname = snake(p['name'])
            plain = fname.replace('r#type', 'type_')
            L.append(f'    /// {field_doc(p)}')
            if kind == 'decimal':
                L.append(f'    #[serde(rename = "{p["name"]}", skip_serializing_if = "Option::is_none", with = "values::opt_decimal")]')
            elif kind == 'datetime':
                L.append(f'    #[serde(rename = "{p["name"]}", skip_serializing_if = "Option::is_none", with = "values::opt_datetime")]')
            elif kind == 'date':
                L.append(f'    #[serde(rename = "{p["name"]}", skip_serializing_if = "Option::is_none", with = "values::opt_date")]')
            else:
                L.append(f'    #[serde(rename = "{p["name"]}", skip_serializing_if = "Option::is_none")]')
            L.append(f'    pub {fname}: Option<{ty}>,')
            if kind == 'string':
                setters.append(f'    /// Sets {field_doc(p)[:-1]}.\n    pub fn {plain}(mut self, value: impl Into<String>) -> Self {{\n        self.{fname} = Some(value.into());\n        self\n    }}')
            else:
                setters.append(f'    /// Sets {field_doc(p)[:-1]}.\n    pub fn {plain}(mut self, value: {ty}) -> Self {{\n        self.{fname} = Some(value);\n        self\n    }}')
        nested = []
        for (nname, ntype, coll) in nav:
            if coll and nname in ('salesOrderLines', 'salesInvoiceLines'):
                L.append(f'    /// `{nname}` for a deep insert (the document and its lines in one request).')
                L.append(f'    #[serde(rename = "{nname}", skip_serializing_if = "Option::is_none")]')
                L.append(f'    pub {snake(nname)}: Option<Vec<{ntype}Input>>,')
                setters.append(f'    /// Adds a line for a deep insert.\n    pub fn line(mut self, line: {ntype}Input) -> Self {{\n        self.{snake(nname)}.get_or_insert_with(Vec::new).push(line);\n        self\n    }}')
                nested.append((nname, ntype))
        L.append('}')
        L.append('')
        L.append(f'impl {inp} {{')
        L.append('    /// No fields set.')
        L.append('    pub fn new() -> Self {\n        Self::default()\n    }')
        L.extend(setters)
        L.append('}')
        L.append('')
        L.append(f'impl WritableEntity for {rust} {{')
        L.append(f'    type Input = {inp};')
        if nested:
            L.append('    fn check_body(body: &serde_json::Value) -> Result<(), crate::Error> {')
            L.append('        crate::entity::check_lengths(Self::ENTITY_SET, Self::MAX_LENGTHS, body)?;')
            for (nname, ntype) in nested:
                L.append(f'        if let Some(lines) = body.get("{nname}").and_then(|l| l.as_array()) {{')
                L.append('            for line in lines {')
                L.append(f'                crate::entity::check_lengths({ntype}::ENTITY_SET, {ntype}::MAX_LENGTHS, line)?;')
                L.append('            }')
                L.append('        }')
            L.append('        Ok(())')
            L.append('    }')
        L.append('}')
    open(f'src/models/{modname}.rs', 'w').write('\n'.join(L) + '\n')

M = ['//! Typed entities of the Business Central API v2.0, generated from its `$metadata`: every',
     '//! property, encoded enum members, `Decimal` amounts, `0001-01-01` and the empty GUID as `None`.', '']
for (m, r, w) in mods:
    M.append(f'mod {m};')
M.append('mod enums;')
M.append('')
for (m, r, w) in mods:
    M.append(f'pub use {m}::{{{r}' + (f', {r}Input' if w else '') + '};')
M.append('pub use enums::*;')
open('src/models/mod.rs', 'w').write('\n'.join(M) + '\n')

I = ['//! Identifier newtypes (the entities\' `SystemId` GUIDs).', '', 'use crate::values::bc_id;', '']
for (ent, rust, eset, idt, ro, doc, nav) in ENTITIES:
    if idt == 'String':
        continue
    I.append(f'bc_id! {{\n    /// The id of a [`{rust}`](crate::models::{rust}).\n    {idt}\n}}\n')
open('src/ids.rs', 'w').write('\n'.join(I))
