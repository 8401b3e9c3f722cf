/**
 * Add and edit a model. Client-side validation mirrors the API; the API's own field errors are
 * shown next to the same fields. Edits send only what changed, guarded by If-Match; a 409 means
 * someone else changed the model and the user is offered a reload. The project field offers the
 * projects where the user may add models (a new one starts in the switcher's project); changing it on
 * edit moves the model. The state lives in `useModelForm`, the fields in `model-form/fields`.
 */
import { useState } from "react";
import { DEFAULT_PROJECT, type Model } from "../api/types";
import { useApi, useNotify } from "../context";
import { useAsync } from "../hooks/useAsync";
import { runsNothing } from "../lib/models";
import { href, navigate } from "../lib/routes";
import { emptyForm, formFromModel, toCreateBody, toUpdateBody, type ModelForm as FormState } from "../lib/validation";
import { ErrorState, InlineError, Loading, errorText } from "../components/States";
import { NotAllowed } from "../components/NotAllowed";
import { PageTitle } from "../components/PageTitle";
import { QuotaBanner } from "../components/QuotaBanner";
import { Time } from "../components/Time";
import { useUser } from "../auth/user";
import { can, deniedReason, projectsAllowing, roleIn, type Roles } from "../auth/roles";
import { useProjects } from "../projects";
import { defaultProjectFor, projectChoices } from "../lib/projects";
import { BasicsFields, ContainerFields, EnvFields, MetadataFields, ProjectField, ScheduleFields, SourceFields } from "./model-form/fields";
import { useModelForm } from "./model-form/useModelForm";

/** Where the user may put a model: the projects /me lists with editor or more, or "default" for a stage editor when /me failed. */
function allowedProjects(roles: Roles): string[] {
  const listed = projectsAllowing(roles, "create");
  return listed.length === 0 && can(roles.stage, "create") ? [DEFAULT_PROJECT] : listed;
}

export function CreateModelPage() {
  const api = useApi();
  const notify = useNotify();
  const { roles } = useUser();
  const { selected } = useProjects();
  const allowed = allowedProjects(roles);
  // Computed once: the form keeps what the user picks even if the switcher or the roles change meanwhile.
  const [initial] = useState(() => emptyForm(defaultProjectFor(selected, allowed)));
  return (
    <section className="page page-narrow">
      <p className="breadcrumb">
        <a href={href({ page: "list" })}>Models</a> /
      </p>
      <PageTitle>Add a model</PageTitle>
      <ModelEditor
        initial={initial}
        projects={projectChoices(allowed)}
        submitLabel="Create model"
        onSubmit={async (form) => {
          const created = await api.createModel(toCreateBody(form));
          notify(`Created ${created.name}.`);
          navigate({ page: "detail", id: created.id, tab: "operations" });
        }}
        cancelHref={href({ page: "list" })}
      />
    </section>
  );
}

export function EditModelPage({ id }: { id: string }) {
  const api = useApi();
  const notify = useNotify();
  const { roles } = useUser();
  const model = useAsync((signal) => api.getModel(id, signal), [api, id]);
  // Bumped on reload after a conflict, so the editor starts again from the latest record.
  const [formKey, setFormKey] = useState(0);

  if (model.error && !model.data) return <ErrorState error={model.error} title="Could not load the model" onRetry={model.reload} />;
  if (!model.data) return <Loading label="Loading the model…" />;
  const current = model.data;
  const denied = deniedReason(roleIn(roles, current.project), "edit", current.project);
  if (denied) return <NotAllowed reason={denied} />;

  return (
    <section className="page page-narrow">
      <p className="breadcrumb">
        <a href={href({ page: "list" })}>Models</a> / <a href={href({ page: "detail", id, tab: "operations" })}>{current.name}</a> /
      </p>
      <PageTitle>Edit {current.name}</PageTitle>
      <p className="muted small">
        Revision {current.revision}, last updated <Time iso={current.updatedAt} /> by {current.updatedBy}.
      </p>
      <ModelEditor
        key={`${current.id}:${current.revision}:${formKey}`}
        initial={formFromModel(current)}
        model={current}
        projects={projectChoices(allowedProjects(roles), current.project)}
        submitLabel="Save changes"
        cancelHref={href({ page: "detail", id, tab: "operations" })}
        onReload={async () => {
          const latest = await api.getModel(id);
          model.setData(latest);
          setFormKey((k) => k + 1);
        }}
        onSubmit={async (form) => {
          const changes = toUpdateBody(form, current);
          if (Object.keys(changes).length === 0) {
            notify("Nothing changed.", "info");
            navigate({ page: "detail", id, tab: "operations" });
            return;
          }
          const saved = await api.updateModel(id, changes, current.revision);
          notify(`Saved ${saved.name}.`);
          navigate({ page: "detail", id, tab: "operations" });
        }}
      />
    </section>
  );
}

interface EditorProps {
  initial: FormState;
  model?: Model;
  /** The projects the form offers. */
  projects: readonly string[];
  submitLabel: string;
  cancelHref: string;
  onSubmit: (form: FormState) => Promise<void>;
  onReload?: () => Promise<void>;
}

function ModelEditor({ initial, model, projects, submitLabel, cancelHref, onSubmit, onReload }: EditorProps) {
  const state = useModelForm(initial, onSubmit, !!model);
  const { form, errors, update } = state;
  const runtimeLocked = !!model && !runsNothing(model);

  return (
    <form ref={state.formRef} className="form" onSubmit={(e) => void state.submit(e)} noValidate aria-busy={state.saving}>
      {state.conflict && (
        <div className="banner banner-warning" role="alert">
          <p>
            <strong>This model was changed by someone else</strong> since you opened this form, so your changes were not saved.
          </p>
          <p>Reload to edit the latest version (your changes here will be discarded).</p>
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => {
              void onReload?.().catch((err: unknown) => state.setFormError(errorText(err)));
            }}
          >
            Reload the latest version
          </button>
        </div>
      )}
      {state.quotaError && <QuotaBanner error={state.quotaError.error} project={state.quotaError.project} />}
      {state.formError && <InlineError>{state.formError}</InlineError>}

      <ProjectField form={form} errors={errors} update={update} choices={projects} editing={!!model} />
      <BasicsFields form={form} errors={errors} update={update} />
      {runtimeLocked && (
        <p className="banner banner-info">
          The model is {model?.status.toLowerCase()}: its container settings can change only while it is stopped.
        </p>
      )}
      <SourceFields form={form} errors={errors} update={update} disabled={runtimeLocked} />
      <ContainerFields form={form} errors={errors} update={update} disabled={runtimeLocked} />
      <EnvFields form={form} errors={errors} update={update} disabled={runtimeLocked} />
      <ScheduleFields form={form} errors={errors} update={update} />
      <MetadataFields form={form} errors={errors} update={update} />

      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={state.saving || state.conflict}>
          {state.saving ? "Saving…" : submitLabel}
        </button>
        <a className="btn" href={cancelHref}>
          Cancel
        </a>
      </div>
    </form>
  );
}
