-- Issue 19 (DOMAIN §11). The public disclosure also lists actions on implementing organizations, from accreditation's
-- events: Art. 15 improvement orders and Art. 16 revocations of plan certification. Each row names the organization
-- it is about (`organization_id`, `organization_type`); `supervising_organization_id` stays the permit holder's id
-- (null on an implementing organization's row).
ALTER TABLE disclosed_actions ADD COLUMN organization_id uuid;
UPDATE disclosed_actions SET organization_id = supervising_organization_id;
ALTER TABLE disclosed_actions ALTER COLUMN organization_id SET NOT NULL;
ALTER TABLE disclosed_actions ALTER COLUMN supervising_organization_id DROP NOT NULL;
ALTER TABLE disclosed_actions ADD COLUMN organization_type text NOT NULL DEFAULT 'supervising_organization'
    CHECK (organization_type IN ('supervising_organization', 'supervision_support_organization',
                                 'implementing_organization'));
UPDATE disclosed_actions SET organization_type = 'supervision_support_organization' WHERE scheme = 'esd';
ALTER TABLE disclosed_actions DROP CONSTRAINT disclosed_actions_action_check;
ALTER TABLE disclosed_actions ADD CONSTRAINT disclosed_actions_action_check
    CHECK (action IN ('revocation', 'suspension', 'downgrade', 'improvement_order', 'employer_improvement_order',
                      'plan_revocation'));
CREATE INDEX disclosed_actions_organization ON disclosed_actions (organization_id);

-- A downgrade is ex officio under Art. 37(2): rows published before named no provision.
UPDATE disclosed_actions SET legal_basis = 'Art. 37(2)' WHERE action = 'downgrade' AND legal_basis IS NULL;
