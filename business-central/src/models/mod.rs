//! Typed entities of the Business Central API v2.0, generated from its `$metadata`: every
//! property, encoded enum members, `Decimal` amounts, `0001-01-01` and the empty GUID as `None`.

mod company;
mod customer;
mod contact;
mod item;
mod item_variant;
mod item_category;
mod sales_order;
mod sales_order_line;
mod sales_invoice;
mod sales_invoice_line;
mod payment_term;
mod payment_method;
mod location;
mod item_ledger_entry;
mod general_product_posting_group;
mod inventory_posting_group;
mod subscription;
mod enums;

pub use company::{Company};
pub use customer::{Customer, CustomerInput};
pub use contact::{Contact, ContactInput};
pub use item::{Item, ItemInput};
pub use item_variant::{ItemVariant, ItemVariantInput};
pub use item_category::{ItemCategory, ItemCategoryInput};
pub use sales_order::{SalesOrder, SalesOrderInput};
pub use sales_order_line::{SalesOrderLine, SalesOrderLineInput};
pub use sales_invoice::{SalesInvoice, SalesInvoiceInput};
pub use sales_invoice_line::{SalesInvoiceLine, SalesInvoiceLineInput};
pub use payment_term::{PaymentTerm, PaymentTermInput};
pub use payment_method::{PaymentMethod, PaymentMethodInput};
pub use location::{Location, LocationInput};
pub use item_ledger_entry::{ItemLedgerEntry};
pub use general_product_posting_group::{GeneralProductPostingGroup};
pub use inventory_posting_group::{InventoryPostingGroup};
pub use subscription::{Subscription, SubscriptionInput};
pub use enums::*;
