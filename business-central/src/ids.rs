//! Identifier newtypes (the entities' `SystemId` GUIDs).

use crate::values::bc_id;

bc_id! {
    /// The id of a [`Company`](crate::models::Company).
    CompanyId
}

bc_id! {
    /// The id of a [`Customer`](crate::models::Customer).
    CustomerId
}

bc_id! {
    /// The id of a [`Contact`](crate::models::Contact).
    ContactId
}

bc_id! {
    /// The id of a [`Item`](crate::models::Item).
    ItemId
}

bc_id! {
    /// The id of a [`ItemVariant`](crate::models::ItemVariant).
    ItemVariantId
}

bc_id! {
    /// The id of a [`ItemCategory`](crate::models::ItemCategory).
    ItemCategoryId
}

bc_id! {
    /// The id of a [`SalesOrder`](crate::models::SalesOrder).
    SalesOrderId
}

bc_id! {
    /// The id of a [`SalesOrderLine`](crate::models::SalesOrderLine).
    SalesOrderLineId
}

bc_id! {
    /// The id of a [`SalesInvoice`](crate::models::SalesInvoice).
    SalesInvoiceId
}

bc_id! {
    /// The id of a [`SalesInvoiceLine`](crate::models::SalesInvoiceLine).
    SalesInvoiceLineId
}

bc_id! {
    /// The id of a [`PaymentTerm`](crate::models::PaymentTerm).
    PaymentTermId
}

bc_id! {
    /// The id of a [`PaymentMethod`](crate::models::PaymentMethod).
    PaymentMethodId
}

bc_id! {
    /// The id of a [`Location`](crate::models::Location).
    LocationId
}

bc_id! {
    /// The id of a [`ItemLedgerEntry`](crate::models::ItemLedgerEntry).
    ItemLedgerEntryId
}

bc_id! {
    /// The id of a [`GeneralProductPostingGroup`](crate::models::GeneralProductPostingGroup).
    GeneralProductPostingGroupId
}

bc_id! {
    /// The id of a [`InventoryPostingGroup`](crate::models::InventoryPostingGroup).
    InventoryPostingGroupId
}
