use super::versioned;
use crate::decode;
use crate::enums::{ProductCodeType, WeightUnit};
use crate::ids::{
    BrandId, ImageId, OutletId, ProductId, ProductTypeId, SupplierId, TagId, Version,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A product or a variant of a product family (`GET /products`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Product {
    /// Product id.
    pub id: ProductId,
    /// Family id, shared by all variants of a product.
    pub family_id: Option<ProductId>,
    /// Product name (shared by variants).
    pub name: String,
    /// Name including the variant options.
    pub variant_name: Option<String>,
    /// Handle (shared by variants).
    pub handle: Option<String>,
    /// SKU (should be unique).
    pub sku: Option<String>,
    /// Barcodes and other codes; the first is the default.
    #[serde(with = "decode::null_default")]
    pub product_codes: Vec<ProductCode>,
    /// Supplier code.
    pub supplier_code: Option<String>,
    /// HTML description.
    pub description: Option<String>,
    /// Sellable on the POS (older name).
    #[serde(with = "decode::flexible_bool")]
    pub active: bool,
    /// Sellable on the POS.
    #[serde(with = "decode::flexible_bool")]
    pub is_active: bool,
    /// Whether inventory is tracked.
    #[serde(with = "decode::flexible_bool")]
    pub has_inventory: bool,
    /// Whether this is a composite (bundle).
    #[serde(with = "decode::flexible_bool")]
    pub is_composite: bool,
    /// Whether the family has variants.
    #[serde(with = "decode::flexible_bool")]
    pub has_variants: bool,
    /// The family's parent product, for a variant.
    pub variant_parent_id: Option<ProductId>,
    /// This variant's options (e.g. Colour = Black).
    #[serde(with = "decode::null_default")]
    pub variant_options: Vec<VariantOption>,
    /// Number of variants in the family.
    #[serde(with = "decode::int_lenient")]
    pub variant_count: i64,
    /// Price including tax.
    #[serde(with = "decode::decimal_opt")]
    pub price_including_tax: Option<Decimal>,
    /// Price excluding tax.
    #[serde(with = "decode::decimal_opt")]
    pub price_excluding_tax: Option<Decimal>,
    /// Default supply (cost) price.
    #[serde(with = "decode::decimal_opt")]
    pub supply_price: Option<Decimal>,
    /// Custom loyalty amount.
    #[serde(with = "decode::decimal_opt")]
    pub loyalty_amount: Option<Decimal>,
    /// Brand.
    pub brand_id: Option<BrandId>,
    /// Brand details.
    pub brand: Option<Brand>,
    /// Default supplier.
    pub supplier_id: Option<SupplierId>,
    /// Supplier details.
    pub supplier: Option<Supplier>,
    /// All suppliers of the product.
    #[serde(with = "decode::null_default")]
    pub product_suppliers: Vec<ProductSupplier>,
    /// Category (formerly product type).
    pub product_type_id: Option<ProductTypeId>,
    /// Category details.
    #[serde(rename = "type")]
    pub product_type: Option<ProductType>,
    /// Tags.
    #[serde(with = "decode::null_default")]
    pub tag_ids: Vec<TagId>,
    /// Tags with names (the API calls them categories).
    #[serde(with = "decode::null_default")]
    pub categories: Vec<Category>,
    /// Images.
    #[serde(with = "decode::null_default")]
    pub images: Vec<Image>,
    /// Main image URL.
    pub image_url: Option<String>,
    /// Thumbnail URL.
    pub image_thumbnail_url: Option<String>,
    /// Components of a composite: product id to quantity.
    #[serde(default)]
    pub composite_bom: Option<BTreeMap<String, serde_json::Value>>,
    /// Origin (`USER`, `SHOPIFY`...).
    pub source: Option<String>,
    /// External reference.
    pub source_id: Option<String>,
    /// Secondary external reference.
    pub source_variant_id: Option<String>,
    /// Accounting code for sales.
    pub account_code: Option<String>,
    /// Accounting code for purchases.
    pub account_code_purchase: Option<String>,
    /// Button order on the sell screen.
    #[serde(with = "decode::int_lenient")]
    pub button_order: i64,
    /// Weight.
    #[serde(with = "decode::decimal_opt")]
    pub weight: Option<Decimal>,
    /// Weight unit.
    pub weight_unit: Option<WeightUnit>,
    /// Length.
    #[serde(with = "decode::decimal_opt")]
    pub length: Option<Decimal>,
    /// Width.
    #[serde(with = "decode::decimal_opt")]
    pub width: Option<Decimal>,
    /// Height.
    #[serde(with = "decode::decimal_opt")]
    pub height: Option<Decimal>,
    /// Dimension unit.
    pub dimensions_unit: Option<String>,
    /// Extra attributes, as sent.
    pub attributes: serde_json::Value,
    /// Created.
    #[serde(with = "decode::timestamp_opt")]
    pub created_at: Option<DateTime<Utc>>,
    /// Updated.
    #[serde(with = "decode::timestamp_opt")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Deleted (listed only with `deleted=true`).
    #[serde(with = "decode::timestamp_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Change counter.
    pub version: Option<Version>,
}
versioned!(Product);

impl Product {
    /// Whether the product is sellable (either flag).
    pub fn is_sellable(&self) -> bool {
        self.is_active || self.active
    }
}

/// A product code (barcode or custom code).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductCode {
    /// Kind of code.
    #[serde(rename = "type", default = "default_code_type")]
    pub kind: ProductCodeType,
    /// The code.
    #[serde(default)]
    pub code: String,
}

fn default_code_type() -> ProductCodeType {
    ProductCodeType::Custom
}

/// One option of a variant (e.g. Colour = Black).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VariantOption {
    /// Attribute id.
    pub id: Option<String>,
    /// Attribute name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// A brand.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Brand {
    /// Brand id.
    pub id: BrandId,
    /// Name.
    pub name: String,
    /// Change counter.
    pub version: Option<Version>,
}

/// A supplier.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Supplier {
    /// Supplier id.
    pub id: SupplierId,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Origin.
    pub source: Option<String>,
    /// Change counter.
    pub version: Option<Version>,
}

/// A supplier of a product, with its price and code.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductSupplier {
    /// Link id.
    pub id: Option<String>,
    /// Product.
    pub product_id: Option<ProductId>,
    /// Supplier.
    pub supplier_id: Option<SupplierId>,
    /// Supplier name.
    pub supplier_name: Option<String>,
    /// Supplier's code for the product.
    pub code: Option<String>,
    /// Supplier price.
    #[serde(with = "decode::decimal_opt")]
    pub price: Option<Decimal>,
}

/// A product category (formerly product type).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductType {
    /// Category id.
    pub id: ProductTypeId,
    /// Name.
    pub name: String,
    /// Change counter.
    pub version: Option<Version>,
}

/// A tag shown in `categories`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Category {
    /// Tag id.
    pub id: TagId,
    /// Name.
    pub name: String,
    /// Change counter.
    pub version: Option<Version>,
}

/// A product image.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Image {
    /// Image id.
    pub id: ImageId,
    /// Full-size URL.
    pub url: Option<String>,
    /// URLs per size (`original`, `standard`, `thumb`, `sl`, `sm`, `ss`, `st`).
    #[serde(with = "decode::string_map")]
    pub sizes: BTreeMap<String, String>,
    /// Change counter.
    pub version: Option<Version>,
}

/// Body of `POST /api/2.0/products` (create a product, optionally with variants).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProductCreate {
    /// Name (required; shared by variants).
    pub name: String,
    /// SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// HTML description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Product codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub product_codes: Vec<ProductCode>,
    /// Sellable on the POS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// Price including tax (do not also set `price_excluding_tax`).
    #[serde(skip_serializing_if = "Option::is_none", with = "decode::decimal_opt")]
    pub price_including_tax: Option<Decimal>,
    /// Price excluding tax (do not also set `price_including_tax`).
    #[serde(skip_serializing_if = "Option::is_none", with = "decode::decimal_opt")]
    pub price_excluding_tax: Option<Decimal>,
    /// Supply price.
    #[serde(skip_serializing_if = "Option::is_none", with = "decode::decimal_opt")]
    pub supply_price: Option<Decimal>,
    /// Supplier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_id: Option<SupplierId>,
    /// Supplier code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier_code: Option<String>,
    /// Brand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<BrandId>,
    /// Category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_category_id: Option<ProductTypeId>,
    /// Tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_ids: Vec<TagId>,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// External reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// Opening inventory per outlet.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inventory: Vec<InventoryLevel>,
    /// Variants of the family.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantCreate>,
}

/// A variant in a [`ProductCreate`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VariantCreate {
    /// SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Price including tax.
    #[serde(skip_serializing_if = "Option::is_none", with = "decode::decimal_opt")]
    pub price_including_tax: Option<Decimal>,
    /// Price excluding tax.
    #[serde(skip_serializing_if = "Option::is_none", with = "decode::decimal_opt")]
    pub price_excluding_tax: Option<Decimal>,
    /// Supply price.
    #[serde(skip_serializing_if = "Option::is_none", with = "decode::decimal_opt")]
    pub supply_price: Option<Decimal>,
    /// Variant attribute values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variant_definitions: Vec<VariantAttributeValue>,
    /// Opening inventory per outlet.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inventory: Vec<InventoryLevel>,
}

/// A variant attribute value (e.g. the Colour attribute with value Red).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VariantAttributeValue {
    /// Attribute id.
    pub attribute_id: String,
    /// Value.
    #[serde(alias = "attribute_value")]
    pub value: String,
}

/// An absolute inventory level for one outlet (create and 2.1 update bodies).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InventoryLevel {
    /// Outlet.
    pub outlet_id: OutletId,
    /// Absolute quantity on hand (not a delta).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decode::decimal_opt"
    )]
    pub current_amount: Option<Decimal>,
    /// Quantity below which the product is reordered (`-1` clears it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decode::decimal_opt"
    )]
    pub reorder_point: Option<Decimal>,
    /// Default reorder quantity.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decode::decimal_opt"
    )]
    pub reorder_amount: Option<Decimal>,
}

impl InventoryLevel {
    /// Sets the absolute quantity at an outlet.
    pub fn set(outlet_id: impl Into<OutletId>, current_amount: Decimal) -> Self {
        InventoryLevel {
            outlet_id: outlet_id.into(),
            current_amount: Some(current_amount),
            reorder_point: None,
            reorder_amount: None,
        }
    }
}

/// Body of `PUT /api/2.1/products/{id}`: family-level `common` and variant-level `details`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductUpdate {
    /// Fields of the whole family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common: Option<ProductCommon>,
    /// Fields of this product or variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<ProductDetails>,
}

impl ProductUpdate {
    /// An update that only sets absolute inventory levels.
    pub fn inventory(levels: impl IntoIterator<Item = InventoryLevel>) -> Self {
        ProductUpdate {
            common: None,
            details: Some(ProductDetails {
                inventory: levels.into_iter().collect(),
                ..Default::default()
            }),
        }
    }
}

/// Family-level fields of a [`ProductUpdate`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductCommon {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Brand (`""` removes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<String>,
    /// Category (`""` removes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_category_id: Option<String>,
    /// Full list of tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_ids: Option<Vec<TagId>>,
    /// Whether inventory is tracked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_inventory: Option<bool>,
    /// Sales account code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_code_sale: Option<String>,
    /// Purchase account code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_code_purchase: Option<String>,
}

/// Variant-level fields of a [`ProductUpdate`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductDetails {
    /// Sellable on the POS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    /// Full list of product codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_codes: Option<Vec<ProductCode>>,
    /// Price excluding tax (tax-exclusive stores).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decode::decimal_opt"
    )]
    pub price_excluding_tax: Option<Decimal>,
    /// Price including tax (tax-inclusive stores).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decode::decimal_opt"
    )]
    pub price_including_tax: Option<Decimal>,
    /// Custom loyalty amount (`-1` for the default).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "decode::decimal_opt"
    )]
    pub loyalty_amount: Option<Decimal>,
    /// Tax for all outlets (tax-inclusive stores).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_outlets_tax: Option<AllOutletsTax>,
    /// Tax per outlet (tax-exclusive stores).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outlet_taxes: Vec<OutletTaxSetting>,
    /// Variant attribute values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variant_attribute_values: Vec<VariantAttributeValueUpdate>,
    /// Absolute inventory levels to set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventory: Vec<InventoryLevel>,
}

/// The tax for all outlets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AllOutletsTax {
    /// Tax id (`""` for the default tax).
    pub tax_id: String,
}

/// The tax at one outlet.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OutletTaxSetting {
    /// Outlet.
    pub outlet_id: OutletId,
    /// Tax id (`""` for the default tax).
    pub tax_id: String,
}

/// A variant attribute value in a 2.1 update.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VariantAttributeValueUpdate {
    /// Attribute id.
    pub attribute_id: String,
    /// Value.
    pub attribute_value: String,
}
