//! Typed entities of the Business Central API v2.0, generated from its `$metadata`: every
//! property, encoded enum members, `Decimal` amounts, `0001-01-01` and the empty GUID as `None`.

mod company;
mod contact;
mod customer;
mod enums;
mod general_product_posting_group;
mod inventory_posting_group;
mod item;
mod item_category;
mod item_ledger_entry;
mod item_variant;
mod location;
mod payment_method;
mod payment_term;
mod sales_invoice;
mod sales_invoice_line;
mod sales_order;
mod sales_order_line;
mod subscription;

pub use company::Company;
pub use contact::{Contact, ContactInput};
pub use customer::{Customer, CustomerInput};
pub use enums::*;
pub use general_product_posting_group::GeneralProductPostingGroup;
pub use inventory_posting_group::InventoryPostingGroup;
pub use item::{Item, ItemInput};
pub use item_category::{ItemCategory, ItemCategoryInput};
pub use item_ledger_entry::ItemLedgerEntry;
pub use item_variant::{ItemVariant, ItemVariantInput};
pub use location::{Location, LocationInput};
pub use payment_method::{PaymentMethod, PaymentMethodInput};
pub use payment_term::{PaymentTerm, PaymentTermInput};
pub use sales_invoice::{SalesInvoice, SalesInvoiceInput};
pub use sales_invoice_line::{SalesInvoiceLine, SalesInvoiceLineInput};
pub use sales_order::{SalesOrder, SalesOrderInput};
pub use sales_order_line::{SalesOrderLine, SalesOrderLineInput};
pub use subscription::{Subscription, SubscriptionInput};
