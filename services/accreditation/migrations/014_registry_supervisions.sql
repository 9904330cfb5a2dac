-- Issue 20: an employer may belong to more than one supervising organization (TITP; ESD when the registry allows).
-- The registry's events on an employer's supervision, as published (the registration's organization,
-- `SupervisionChanged` with `alongside`, `SupervisionEnded`): the supervisions with their dates are made from them
-- (domain/rules.py `supervision_periods`). `day`: a change's first day (null: since the registration), an end's last.
CREATE TABLE registry_supervision_steps (
    implementing_organization_id uuid    NOT NULL,
    seq                          bigserial,
    scheme                       text    NOT NULL CHECK (scheme IN ('titp', 'esd')),
    supervising_organization_id  uuid    NOT NULL,
    day                          date,
    ended                        boolean NOT NULL DEFAULT false,
    alongside                    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (implementing_organization_id, seq)
);

-- Employers recorded before: the supervision of each scheme as the view held it (its earlier ones were not kept).
INSERT INTO registry_supervision_steps (implementing_organization_id, scheme, supervising_organization_id, day)
SELECT id, 'titp', supervising_organization_id, supervised_from
  FROM registry_implementing_organizations WHERE supervising_organization_id IS NOT NULL;
INSERT INTO registry_supervision_steps (implementing_organization_id, scheme, supervising_organization_id, day)
SELECT id, 'esd', esd_supervising_organization_id, esd_supervised_from
  FROM registry_implementing_organizations WHERE esd_supervising_organization_id IS NOT NULL;
