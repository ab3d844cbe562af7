//! Impact × urgency → priority, through a matrix that belongs to the workspace.
//!
//! Priority is never stored in an incident document. It is derived every time from the stored
//! impact and urgency and the workspace matrix, so two technicians who change impact and urgency
//! concurrently can never leave a stale priority behind after their changes merge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares a 1-3 level (1 is the most severe) stored as an integer.
macro_rules! level {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "u8", into = "u8")]
        pub enum $name {
            /// 1 - High.
            High = 1,
            /// 2 - Medium.
            Medium = 2,
            /// 3 - Low.
            Low = 3,
        }

        impl $name {
            /// Every level, most severe first.
            pub const ALL: [$name; 3] = [$name::High, $name::Medium, $name::Low];

            /// The level number, 1 (high) to 3 (low).
            pub fn level(self) -> u8 {
                self as u8
            }

            /// From a level number 1-3.
            pub fn from_level(level: u8) -> Option<Self> {
                match level {
                    1 => Some($name::High),
                    2 => Some($name::Medium),
                    3 => Some($name::Low),
                    _ => None,
                }
            }

            /// "High", "Medium" or "Low".
            pub fn name(self) -> &'static str {
                match self {
                    $name::High => "High",
                    $name::Medium => "Medium",
                    $name::Low => "Low",
                }
            }

            fn index(self) -> usize {
                self as usize - 1
            }
        }

        impl fmt::Display for $name {
            /// ServiceNow style: `1 - High`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} - {}", self.level(), self.name())
            }
        }

        impl TryFrom<u8> for $name {
            type Error = String;
            fn try_from(v: u8) -> Result<Self, String> {
                Self::from_level(v).ok_or_else(|| format!(concat!($what, " must be 1, 2 or 3, not {}"), v))
            }
        }

        impl From<$name> for u8 {
            fn from(v: $name) -> u8 {
                v.level()
            }
        }
    };
}

level!(
    /// How widely the business is affected.
    Impact,
    "impact"
);
level!(
    /// How quickly the business needs it fixed.
    Urgency,
    "urgency"
);

/// ITIL priority, P1 (Critical) to P5 (Planning).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Priority {
    /// P1 Critical.
    P1 = 1,
    /// P2 High.
    P2 = 2,
    /// P3 Moderate.
    P3 = 3,
    /// P4 Low.
    P4 = 4,
    /// P5 Planning.
    P5 = 5,
}

impl Priority {
    /// Every priority, most urgent first.
    pub const ALL: [Priority; 5] = [
        Priority::P1,
        Priority::P2,
        Priority::P3,
        Priority::P4,
        Priority::P5,
    ];

    /// 1 to 5.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// From 1 to 5.
    pub fn from_number(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n).wrapping_sub(1)).copied()
    }

    /// "Critical", "High", "Moderate", "Low" or "Planning".
    pub fn name(self) -> &'static str {
        match self {
            Priority::P1 => "Critical",
            Priority::P2 => "High",
            Priority::P3 => "Moderate",
            Priority::P4 => "Low",
            Priority::P5 => "Planning",
        }
    }

    /// "P1" to "P5".
    pub fn code(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
            Priority::P5 => "P5",
        }
    }

    /// Zero-based index, for per-priority tables.
    pub fn index(self) -> usize {
        self as usize - 1
    }
}

impl fmt::Display for Priority {
    /// `P1 Critical`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

impl TryFrom<u8> for Priority {
    type Error = String;
    fn try_from(n: u8) -> Result<Self, String> {
        Self::from_number(n).ok_or_else(|| format!("priority must be 1 to 5, not {n}"))
    }
}

impl From<Priority> for u8 {
    fn from(p: Priority) -> u8 {
        p.number()
    }
}

/// The workspace's impact × urgency table. Rows are impact (1-3), columns urgency (1-3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityMatrix {
    rows: [[Priority; 3]; 3],
}

impl PriorityMatrix {
    /// A custom matrix: `rows[impact - 1][urgency - 1]`.
    pub fn new(rows: [[Priority; 3]; 3]) -> Self {
        PriorityMatrix { rows }
    }

    /// The ITIL / ServiceNow base-system matrix.
    pub fn itil() -> Self {
        use Priority::*;
        PriorityMatrix {
            rows: [[P1, P2, P3], [P2, P3, P4], [P3, P4, P5]],
        }
    }

    /// The priority for an impact and urgency.
    pub fn priority(&self, impact: Impact, urgency: Urgency) -> Priority {
        self.rows[impact.index()][urgency.index()]
    }

    /// The rows of the table, for display.
    pub fn rows(&self) -> &[[Priority; 3]; 3] {
        &self.rows
    }
}

impl Default for PriorityMatrix {
    fn default() -> Self {
        Self::itil()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itil_matrix_matches_the_servicenow_base_system() {
        let m = PriorityMatrix::default();
        let expect = [
            (Impact::High, Urgency::High, Priority::P1),
            (Impact::High, Urgency::Medium, Priority::P2),
            (Impact::High, Urgency::Low, Priority::P3),
            (Impact::Medium, Urgency::High, Priority::P2),
            (Impact::Medium, Urgency::Medium, Priority::P3),
            (Impact::Medium, Urgency::Low, Priority::P4),
            (Impact::Low, Urgency::High, Priority::P3),
            (Impact::Low, Urgency::Medium, Priority::P4),
            (Impact::Low, Urgency::Low, Priority::P5),
        ];
        for (i, u, p) in expect {
            assert_eq!(m.priority(i, u), p, "{i} × {u}");
        }
    }

    #[test]
    fn a_workspace_can_configure_its_own_matrix() {
        use Priority::*;
        let m = PriorityMatrix::new([[P1, P1, P2], [P2, P2, P3], [P3, P4, P5]]);
        assert_eq!(m.priority(Impact::High, Urgency::Medium), P1);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<PriorityMatrix>(&json).unwrap(), m);
        assert!(
            serde_json::from_str::<PriorityMatrix>(r#"{"rows":[[1,1,9],[2,2,3],[3,4,5]]}"#)
                .is_err()
        );
    }

    #[test]
    fn labels_read_as_itil_does() {
        assert_eq!(Priority::P1.to_string(), "P1 Critical");
        assert_eq!(Priority::P5.to_string(), "P5 Planning");
        assert_eq!(Impact::Medium.to_string(), "2 - Medium");
        assert_eq!(Priority::from_number(0), None);
        assert_eq!(Priority::from_number(6), None);
        assert_eq!(
            Urgency::try_from(4).unwrap_err(),
            "urgency must be 1, 2 or 3, not 4"
        );
    }
}
