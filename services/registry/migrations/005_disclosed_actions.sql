-- Read model: the public disclosure of administrative actions on supervising organizations'
-- permits (DOMAIN §2), one row per action, written in the same transaction as its event.
-- Only what may be published: the organization (a legal person) and the action's legal facts;
-- never the officers' free-text reasons, addresses, or the people an application names.
CREATE TABLE disclosed_actions (
    id                          uuid PRIMARY KEY,  -- the order's or suspension's id; derived for the others
    supervising_organization_id uuid NOT NULL,
    name                        text NOT NULL,
    corporate_number            text NOT NULL,
    prefecture                  text NOT NULL,
    action                      text NOT NULL CHECK (action IN ('revocation', 'suspension', 'downgrade',
                                                                'improvement_order')),
    action_date                 date NOT NULL,
    legal_basis                 text,
    ground                      text NOT NULL,
    until_date                  date,  -- suspension: its last day
    scope                       text,  -- suspension: all or part of the business
    deadline                    date   -- improvement order: the deadline to improve by
);
CREATE INDEX disclosed_actions_newest ON disclosed_actions (action_date DESC, id DESC);
CREATE INDEX disclosed_actions_prefecture ON disclosed_actions (prefecture, action_date DESC, id DESC);
