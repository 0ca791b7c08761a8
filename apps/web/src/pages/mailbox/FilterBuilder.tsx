import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must } from '../../session';
import { useFormAction } from '../../ui';
import { ProblemBox } from './parts';

type Rule = ApiSchema<'FilterRuleBody'>;
type Condition = Rule['conditions'][number];
type Action = Rule['actions'][number];

// The builder offers the conditions people write by hand; the API takes more (spam, auth).
const FIELDS = ['from', 'to', 'cc', 'subject', 'header', 'size', 'hasAttachment'] as const;
type Field = (typeof FIELDS)[number];
const TEXT_OPERATORS = ['contains', 'is', 'matches', 'regex'] as const;
const SIZE_OPERATORS = ['greaterThan', 'lessThan'] as const;
const ACTIONS = ['moveTo', 'markRead', 'flag', 'forward', 'redirect', 'discard', 'reject', 'stop'] as const;
type ActionType = (typeof ACTIONS)[number];

interface ConditionRow {
  field: Field;
  operator: string;
  name: string;
  value: string;
  not: boolean;
}
interface ActionRow {
  type: ActionType;
  value: string;
}

function toCondition(row: ConditionRow): Condition {
  const not = row.not ? { not: true } : {};
  switch (row.field) {
    case 'size':
      return {
        field: 'size',
        operator: row.operator as 'greaterThan',
        value: Math.round(Number(row.value) * 1024),
        ...not,
      };
    case 'hasAttachment':
      return { field: 'hasAttachment', operator: 'is', value: row.value !== 'false', ...not };
    case 'header':
      return { field: 'header', name: row.name, operator: row.operator as 'is', value: row.value, ...not };
    case 'from':
    case 'to':
    case 'cc':
    case 'subject':
      return { field: row.field, operator: row.operator as 'is', value: row.value, ...not };
  }
}

function toAction(row: ActionRow): Action {
  switch (row.type) {
    case 'moveTo':
      return { type: 'moveTo', folder: row.value };
    case 'forward':
    case 'redirect':
      return { type: row.type, to: row.value };
    case 'reject':
      return { type: 'reject', text: row.value };
    case 'markRead':
    case 'flag':
    case 'discard':
    case 'stop':
      return { type: row.type };
  }
}

const needsValue = (type: ActionType) => ['moveTo', 'forward', 'redirect', 'reject'].includes(type);
const newCondition = (): ConditionRow => ({ field: 'from', operator: 'contains', name: '', value: '', not: false });

/** Builds one rule from rows of conditions and actions, and saves it through POST .../filters. */
export function FilterBuilder({
  client,
  tenantId,
  mailboxId,
  onCreated,
}: {
  client: ApiClient;
  tenantId: string;
  mailboxId: string;
  onCreated: (name: string) => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [matchMode, setMatchMode] = useState<'all' | 'any'>('all');
  const [conditions, setConditions] = useState<ConditionRow[]>([newCondition()]);
  const [actions, setActions] = useState<ActionRow[]>([{ type: 'moveTo', value: '' }]);
  const { busy, error, run } = useFormAction();

  const setCondition = (i: number, change: Partial<ConditionRow>) =>
    setConditions((list) => list.map((c, j) => (j === i ? { ...c, ...change } : c)));
  const setAction = (i: number, change: Partial<ActionRow>) =>
    setActions((list) => list.map((a, j) => (j === i ? { ...a, ...change } : a)));

  const save = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const body: Rule = {
        name: name.trim(),
        matchMode,
        conditions: conditions.map(toCondition),
        actions: actions.map(toAction),
      };
      must(
        await client.POST('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters', {
          params: { path: { tenantId, mailboxId } },
          body,
        }),
      );
      onCreated(body.name);
      setName('');
      setConditions([newCondition()]);
      setActions([{ type: 'moveTo', value: '' }]);
    });
  };

  return (
    <form className="filter-builder" onSubmit={(e) => void save(e)} aria-label={t('filters.builder')}>
      <h3>{t('filters.builder')}</h3>
      <div className="form-grid">
        <label className="field">
          <span>{t('filters.name')}</span>
          <input required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('filters.matchMode')}</span>
          <select value={matchMode} onChange={(e) => setMatchMode(e.target.value as 'all' | 'any')}>
            <option value="all">{t('filters.matchAll')}</option>
            <option value="any">{t('filters.matchAny')}</option>
          </select>
        </label>
      </div>
      <fieldset className="builder-rows">
        <legend>{t('filters.conditions')}</legend>
        {conditions.length === 0 && <p className="muted small">{t('filters.noConditions')}</p>}
        {conditions.map((c, i) => {
          const n = i + 1;
          const operators =
            c.field === 'size' ? SIZE_OPERATORS : c.field === 'hasAttachment' ? (['is'] as const) : TEXT_OPERATORS;
          return (
            <div key={i} className="builder-row">
              <label className="field">
                <span>{t('filters.field', { n })}</span>
                <select
                  value={c.field}
                  onChange={(e) => {
                    const field = e.target.value as Field;
                    const operator = field === 'size' ? 'greaterThan' : field === 'hasAttachment' ? 'is' : 'contains';
                    setCondition(i, { field, operator, value: field === 'hasAttachment' ? 'true' : '' });
                  }}
                >
                  {FIELDS.map((f) => (
                    <option key={f} value={f}>
                      {t(`filters.fieldName.${f}`)}
                    </option>
                  ))}
                </select>
              </label>
              {c.field === 'header' && (
                <label className="field">
                  <span>{t('filters.headerName', { n })}</span>
                  <input required value={c.name} onChange={(e) => setCondition(i, { name: e.target.value })} />
                </label>
              )}
              <label className="field">
                <span>{t('filters.operator', { n })}</span>
                <select value={c.operator} onChange={(e) => setCondition(i, { operator: e.target.value })}>
                  {operators.map((o) => (
                    <option key={o} value={o}>
                      {t(`filters.op.${o}`)}
                    </option>
                  ))}
                </select>
              </label>
              <label className="field">
                <span>{c.field === 'size' ? t('filters.sizeKb', { n }) : t('filters.value', { n })}</span>
                {c.field === 'hasAttachment' ? (
                  <select value={c.value} onChange={(e) => setCondition(i, { value: e.target.value })}>
                    <option value="true">{t('filters.yes')}</option>
                    <option value="false">{t('filters.no')}</option>
                  </select>
                ) : (
                  <input
                    type={c.field === 'size' ? 'number' : 'text'}
                    min={0}
                    value={c.value}
                    onChange={(e) => setCondition(i, { value: e.target.value })}
                  />
                )}
              </label>
              <label className="check">
                <input type="checkbox" checked={c.not} onChange={(e) => setCondition(i, { not: e.target.checked })} />
                <span>{t('filters.not', { n })}</span>
              </label>
              <button
                type="button"
                className="button button-small"
                aria-label={t('filters.removeCondition', { n })}
                onClick={() => setConditions((list) => list.filter((_, j) => j !== i))}
              >
                {t('filters.remove')}
              </button>
            </div>
          );
        })}
        <button
          type="button"
          className="button button-small"
          onClick={() => setConditions((l) => [...l, newCondition()])}
        >
          {t('filters.addCondition')}
        </button>
      </fieldset>
      <fieldset className="builder-rows">
        <legend>{t('filters.actions')}</legend>
        {actions.map((a, i) => {
          const n = i + 1;
          return (
            <div key={i} className="builder-row">
              <label className="field">
                <span>{t('filters.action', { n })}</span>
                <select
                  value={a.type}
                  onChange={(e) => setAction(i, { type: e.target.value as ActionType, value: '' })}
                >
                  {ACTIONS.map((type) => (
                    <option key={type} value={type}>
                      {t(`filters.actionName.${type}`)}
                    </option>
                  ))}
                </select>
              </label>
              {needsValue(a.type) && (
                <label className="field">
                  <span>
                    {t(`filters.actionValue.${a.type as 'moveTo' | 'forward' | 'redirect' | 'reject'}`, { n })}
                  </span>
                  <input required value={a.value} onChange={(e) => setAction(i, { value: e.target.value })} />
                </label>
              )}
              {actions.length > 1 && (
                <button
                  type="button"
                  className="button button-small"
                  aria-label={t('filters.removeAction', { n })}
                  onClick={() => setActions((list) => list.filter((_, j) => j !== i))}
                >
                  {t('filters.remove')}
                </button>
              )}
            </div>
          );
        })}
        <button
          type="button"
          className="button button-small"
          onClick={() => setActions((l) => [...l, { type: 'markRead', value: '' }])}
        >
          {t('filters.addAction')}
        </button>
      </fieldset>
      {error !== null && <ProblemBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('filters.create')}
        </button>
      </div>
    </form>
  );
}
