"""The Child Risk Assessment Matrix: built on the referral and case log."""
