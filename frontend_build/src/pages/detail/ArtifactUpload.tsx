/** The model file panel: the file the model runs, and an upload (presigned POST) with progress and cancel. */
import type { Model } from "../../api/types";
import { useApi } from "../../context";
import { FileUpload } from "../../components/FileUpload";
import { Time } from "../../components/Time";
import { formatBytes } from "../../lib/format";
import { useRoleIn } from "../../auth/user";
import { deniedReason } from "../../auth/roles";
import { DeniedButton } from "../../components/Guarded";

export function ArtifactUpload({ model, onUploaded }: { model: Model; onUploaded: () => void }) {
  const api = useApi();
  const denied = deniedReason(useRoleIn(model.project), "upload", model.project);

  return (
    <section className="panel" aria-labelledby="artifact-title">
      <h2 id="artifact-title">Model file</h2>
      {model.artifact ? (
        <p>
          {formatBytes(model.artifact.size)} {model.artifactFormat} file, uploaded <Time iso={model.artifact.uploadedAt} />.
        </p>
      ) : (
        <p className="banner banner-info">No file uploaded yet: upload the trained model before starting it.</p>
      )}
      {denied ? (
        <DeniedButton reason={denied}>Upload a file</DeniedButton>
      ) : (
        <FileUpload
          inputId="artifact-file"
          label={`${model.artifact ? "Replace with a new file" : "Choose the file"} (${model.artifactFormat})`}
          format={model.artifactFormat}
          requestTicket={() => api.requestArtifactUpload(model.id)}
          onUploaded={onUploaded}
        />
      )}
    </section>
  );
}
