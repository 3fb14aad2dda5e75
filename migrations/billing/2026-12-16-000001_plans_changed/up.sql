-- Billing keeps the plan catalogue in memory between changes (issue 16,
-- decision 40): any change to `plans`, from a reseed or by hand, tells
-- every billing process to read it again.
CREATE FUNCTION notify_plans_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('plans_changed', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER plans_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION notify_plans_changed();
