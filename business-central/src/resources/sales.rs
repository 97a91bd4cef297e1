use pos_http::Method;

use super::EntitySet;
use crate::entity::EntityKey;
use crate::error::Error;
use crate::ids::{SalesInvoiceId, SalesOrderId};
use crate::models::*;
use crate::query::{Expand, Query};

impl EntitySet<SalesOrder> {
    /// The lines of one order (`salesOrders({id})/salesOrderLines`).
    pub fn lines(&self, order: SalesOrderId) -> EntitySet<SalesOrderLine> {
        self.related(&order, "salesOrderLines")
    }

    /// Deep insert: creates the order and the lines in `input` in one request and returns the
    /// order with its lines expanded.
    pub async fn create_with_lines(&self, input: &SalesOrderInput) -> Result<SalesOrder, Error> {
        self.create_with(input, Query::new().expand(Expand::new("salesOrderLines")))
            .await
    }

    /// Ships and invoices (posts) the order: `POST salesOrders({id})/Microsoft.NAV.shipAndInvoice`.
    /// Not retried: after a timeout, re-read the order before trying again.
    pub async fn ship_and_invoice(&self, order: SalesOrderId) -> Result<(), Error> {
        bound_action(self, &order, "shipAndInvoice").await
    }
}

impl EntitySet<SalesInvoice> {
    /// The lines of one invoice (`salesInvoices({id})/salesInvoiceLines`).
    pub fn lines(&self, invoice: SalesInvoiceId) -> EntitySet<SalesInvoiceLine> {
        self.related(&invoice, "salesInvoiceLines")
    }

    /// Deep insert: creates the invoice and its lines in one request, returned with lines.
    pub async fn create_with_lines(
        &self,
        input: &SalesInvoiceInput,
    ) -> Result<SalesInvoice, Error> {
        self.create_with(input, Query::new().expand(Expand::new("salesInvoiceLines")))
            .await
    }

    /// Posts the draft invoice: `POST salesInvoices({id})/Microsoft.NAV.post`. Not retried.
    pub async fn post(&self, invoice: SalesInvoiceId) -> Result<(), Error> {
        bound_action(self, &invoice, "post").await
    }
}

async fn bound_action<E>(
    set: &EntitySet<E>,
    key: &dyn EntityKey,
    action: &str,
) -> Result<(), Error> {
    let path = format!("{}/Microsoft.NAV.{action}", set.entity_path(key));
    set.client()
        .http()
        .request(Method::POST, &path)
        .send()
        .await?;
    Ok(())
}

impl crate::client::CompanyScope {
    /// Quantities still to ship on open sales orders, by item number (`lineObjectNumber` of
    /// item lines): what open orders reserve from stock. Reads every order with its lines
    /// (`$expand`, only the needed fields), one request per page.
    pub async fn open_order_quantities(
        &self,
    ) -> Result<std::collections::BTreeMap<String, rust_decimal::Decimal>, Error> {
        use futures::TryStreamExt;
        let query = Query::new()
            .select(["id"])
            .expand(Expand::new("salesOrderLines").select([
                "lineType",
                "lineObjectNumber",
                "quantity",
                "shippedQuantity",
            ]));
        let mut out = std::collections::BTreeMap::new();
        let mut orders = self.sales_orders().list(query);
        while let Some(order) = orders.try_next().await? {
            for line in order.sales_order_lines.unwrap_or_default() {
                if line.line_type == LineType::Item && !line.line_object_number.is_empty() {
                    *out.entry(line.line_object_number.clone())
                        .or_insert(rust_decimal::Decimal::ZERO) += line.outstanding_quantity();
                }
            }
        }
        Ok(out)
    }
}

impl SalesOrderLine {
    /// Quantity still to ship (`quantity - shippedQuantity`, never below zero): what an open order
    /// reserves from stock.
    pub fn outstanding_quantity(&self) -> rust_decimal::Decimal {
        (self.quantity - self.shipped_quantity).max(rust_decimal::Decimal::ZERO)
    }
}
