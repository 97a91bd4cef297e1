//! Read-only resources listed by version cursor.

use super::{get_one, seg};
use crate::client::Client;
use crate::enums::{ConsignmentStatus, ConsignmentType};
use crate::error::Result;
use crate::ids::{ConsignmentId, OutletId, RegisterId, UserId};
use crate::models::*;
use crate::paging::ListRequest;

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            client: Client,
        }
        impl $name {
            pub(crate) fn new(client: Client) -> Self {
                Self { client }
            }
        }
    };
}

handle!(
    /// Outlets (`/outlets`).
    Outlets
);
impl Outlets {
    /// All outlets by version cursor (`deleted(true)` includes deleted ones).
    pub fn list(&self) -> ListRequest<Outlet> {
        ListRequest::new(self.client.clone(), self.client.path("outlets"), true)
    }
    /// One outlet.
    pub async fn get(&self, id: &OutletId) -> Result<Outlet> {
        get_one(
            &self.client,
            self.client.path(&format!("outlets/{}", seg(id.as_str())?)),
        )
        .await
    }
}

handle!(
    /// Registers (`/registers`).
    Registers
);
impl Registers {
    /// All registers by version cursor.
    pub fn list(&self) -> ListRequest<Register> {
        ListRequest::new(self.client.clone(), self.client.path("registers"), true)
    }
    /// One register.
    pub async fn get(&self, id: &RegisterId) -> Result<Register> {
        get_one(
            &self.client,
            self.client
                .path(&format!("registers/{}", seg(id.as_str())?)),
        )
        .await
    }
}

handle!(
    /// Users (`/users`).
    Users
);
impl Users {
    /// All users by version cursor.
    pub fn list(&self) -> ListRequest<User> {
        ListRequest::new(self.client.clone(), self.client.path("users"), false)
    }
    /// One user.
    pub async fn get(&self, id: &UserId) -> Result<User> {
        get_one(
            &self.client,
            self.client.path(&format!("users/{}", seg(id.as_str())?)),
        )
        .await
    }
    /// The user the token belongs to (`GET /user`).
    pub async fn me(&self) -> Result<User> {
        get_one(&self.client, self.client.path("user")).await
    }
}

handle!(
    /// Payment types (`/payment_types`).
    PaymentTypes
);
impl PaymentTypes {
    /// All payment types by version cursor (`deleted(true)` includes deleted ones in the date
    /// versions; 2.0 has no such filter).
    pub fn list(&self) -> ListRequest<PaymentType> {
        ListRequest::new(
            self.client.clone(),
            self.client.path("payment_types"),
            self.client.api_version().is_dated(),
        )
    }
}

handle!(
    /// Taxes (`/taxes`).
    Taxes
);
impl Taxes {
    /// All taxes by version cursor.
    pub fn list(&self) -> ListRequest<Tax> {
        ListRequest::new(self.client.clone(), self.client.path("taxes"), false)
    }
    /// Product taxes per outlet (`/outlet_taxes`).
    pub fn outlet_taxes(&self) -> ListRequest<OutletTax> {
        ListRequest::new(self.client.clone(), self.client.path("outlet_taxes"), true)
    }
}

handle!(
    /// Consignments: stock orders, transfers, counts and returns (`/consignments`).
    Consignments
);
impl Consignments {
    /// All consignments by version cursor.
    pub fn list(&self) -> ListRequest<Consignment> {
        ListRequest::new(self.client.clone(), self.client.path("consignments"), false)
    }
    /// Consignments filtered by type, status and outlet.
    pub fn list_filtered(
        &self,
        kind: Option<ConsignmentType>,
        status: Option<ConsignmentStatus>,
        outlet: Option<&OutletId>,
    ) -> ListRequest<Consignment> {
        let mut r = self.list();
        if let Some(k) = kind {
            r = r.extra("type", k.as_str());
        }
        if let Some(s) = status {
            r = r.extra("status", s.as_str());
        }
        if let Some(o) = outlet {
            r = r.extra("outlet_id", o.as_str());
        }
        r
    }
    /// One consignment.
    pub async fn get(&self, id: &ConsignmentId) -> Result<Consignment> {
        get_one(
            &self.client,
            self.client
                .path(&format!("consignments/{}", seg(id.as_str())?)),
        )
        .await
    }
    /// The product lines of a consignment.
    pub fn products(&self, id: &ConsignmentId) -> Result<ListRequest<ConsignmentProduct>> {
        Ok(ListRequest::new(
            self.client.clone(),
            self.client
                .path(&format!("consignments/{}/products", seg(id.as_str())?)),
            false,
        ))
    }
}

handle!(
    /// Shifts: user clock-ins (`/shifts`, read only).
    Shifts
);
impl Shifts {
    /// All shifts by version cursor.
    pub fn list(&self) -> ListRequest<Shift> {
        ListRequest::new(self.client.clone(), self.client.path("shifts"), false)
    }
}
