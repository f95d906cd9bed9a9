// A page that fails to render shows what went wrong and a way back, instead of a
// blank window; moving to another page clears it.
import { Component, type ReactNode } from "react";
import { Button, Result } from "antd";
import { useTranslation } from "react-i18next";
import { Link, useLocation } from "react-router";

type State = { error: Error | null };

class Boundary extends Component<{ children: ReactNode; fallback: (error: Error) => ReactNode }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  render() {
    return this.state.error ? this.props.fallback(this.state.error) : this.props.children;
  }
}

export function PageErrorBoundary({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const location = useLocation();
  return (
    <Boundary
      key={location.pathname}
      fallback={(error) => (
        <Result
          status="error"
          title={t("pageFailed")}
          subTitle={error.message}
          extra={
            <Link to="/">
              <Button type="primary">{t("backToWallboard")}</Button>
            </Link>
          }
        />
      )}
    >
      {children}
    </Boundary>
  );
}
