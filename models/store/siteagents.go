package store

import (
	"bytes"
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/waldur-go/waldur/models"
)

// JSONValue is any JSON value in a {{json}} column, kept as its text;
// empty is NULL (and renders as null).
type JSONValue []byte

// Value implements driver.Valuer.
func (j JSONValue) Value() (driver.Value, error) {
	if len(j) == 0 {
		return nil, nil
	}
	return string(j), nil
}

// Scan implements sql.Scanner.
func (j *JSONValue) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = bytes.Clone(v)
	case string:
		*j = JSONValue(v)
	default:
		return fmt.Errorf("JSONValue: cannot scan %T", src)
	}
	return nil
}

// GormDataType tells GORM the column holds JSON.
func (JSONValue) GormDataType() string { return "json" }

// MarshalJSON renders the value as stored (null when empty).
func (j JSONValue) MarshalJSON() ([]byte, error) {
	if len(j) == 0 {
		return []byte("null"), nil
	}
	return j, nil
}

// AgentIdentity is a site agent of an offering, as it registered itself.
type AgentIdentity struct {
	ID                int64 `gorm:"primaryKey"`
	UUID              models.UUID
	OfferingID        int64
	Name              string
	Version           string
	Dependencies      JSONValue
	ConfigFilePath    string
	ConfigFileContent string
	LastRestarted     *time.Time
	// CreatedByID is the user who registered the identity (nil: made
	// before this was recorded, or the user is gone).
	CreatedByID *int64
	Created     time.Time
	Modified    time.Time
}

// TableName is the GORM table.
func (AgentIdentity) TableName() string { return "agent_identities" }

// AgentService is one mode (order_process, report, …) an agent runs.
type AgentService struct {
	ID         int64 `gorm:"primaryKey"`
	UUID       models.UUID
	IdentityID int64
	Name       string
	Mode       string
	State      models.AgentServiceState
	Statistics JSONValue
	Created    time.Time
	Modified   time.Time
}

// TableName is the GORM table.
func (AgentService) TableName() string { return "agent_services" }

// AgentProcessor is one processor (backend) a service of an agent runs.
type AgentProcessor struct {
	ID             int64 `gorm:"primaryKey"`
	UUID           models.UUID
	ServiceID      int64
	Name           string
	BackendType    string
	BackendVersion string
	LastRun        *time.Time
	Created        time.Time
	Modified       time.Time
}

// TableName is the GORM table.
func (AgentProcessor) TableName() string { return "agent_processors" }

// IntegrationStatus is the liveness of an offering's agent of one type.
type IntegrationStatus struct {
	ID                   int64 `gorm:"primaryKey"`
	OfferingID           int64
	AgentType            models.AgentType
	ServiceName          string
	Status               models.IntegrationState
	LastRequestTimestamp *time.Time
}

// TableName is the GORM table.
func (IntegrationStatus) TableName() string { return "integration_statuses" }

// AgentIdentityView is an identity with its offering's UUID and customer.
type AgentIdentityView struct {
	AgentIdentity      `gorm:"embedded"`
	OfferingUUID       models.UUID
	OfferingCustomerID int64
	// CreatedByUUID is the creator's UUID (nil when unknown).
	CreatedByUUID *models.UUID
}

// agentIdentities is the query over identities joined for AgentIdentityView
// (aliases: agent_identities, f (offerings)).
func (s *Store) agentIdentities(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("agent_identities").
		Select("agent_identities.*, f.uuid AS offering_uuid, f.customer_id AS offering_customer_id, cu.uuid AS created_by_uuid").
		Joins("JOIN offerings f ON f.id = agent_identities.offering_id").
		Joins("LEFT JOIN users cu ON cu.id = agent_identities.created_by_id")
}

// AgentIdentityByUUID loads one identity. Codes: not_found.
func (s *Store) AgentIdentityByUUID(ctx context.Context, id models.UUID) (*AgentIdentityView, error) {
	var v AgentIdentityView
	if err := s.agentIdentities(ctx).Where("agent_identities.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Agent identity")
	}
	return &v, nil
}

func identityNameTaken() error {
	return models.FieldError("name", "agent identity with this name already exists.")
}

// SaveAgentIdentity inserts a (ID 0) or updates the identity, filling UUID
// and timestamps. Names are unique. Codes: invalid (name taken).
func (s *Store) SaveAgentIdentity(ctx context.Context, a *AgentIdentity) error {
	return s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		var n int64
		if err := db.Model(&AgentIdentity{}).Where("name = ? AND id <> ?", a.Name, a.ID).Count(&n).Error; err != nil {
			return models.Internal(err)
		}
		if n > 0 {
			return identityNameTaken()
		}
		now := tx.Now()
		a.Modified = now
		if a.LastRestarted == nil {
			a.LastRestarted = &now
		}
		var err error
		if a.ID == 0 {
			a.UUID, a.Created = models.NewUUID(), now
			if a.CreatedByID == nil {
				if u := models.ActorFrom(ctx).User; u != nil {
					a.CreatedByID = &u.ID
				}
			}
			err = db.Create(a).Error
		} else {
			err = db.Select("offering_id", "name", "version", "dependencies", "config_file_path", "config_file_content",
				"last_restarted", "modified").Where("id = ?", a.ID).Updates(a).Error
		}
		if models.IsCode(translate(err, "Agent identity"), models.CodeConflict) {
			return identityNameTaken()
		}
		return translate(err, "Agent identity")
	})
}

// DeleteAgentIdentity deletes the identity with its services and processors.
func (s *Store) DeleteAgentIdentity(ctx context.Context, id int64) error {
	return translate(s.DB.WithContext(ctx).Where("id = ?", id).Delete(&AgentIdentity{}).Error, "Agent identity")
}

// AgentServicesOf loads the services of identities, by identity id, ordered by name.
func (s *Store) AgentServicesOf(ctx context.Context, identityIDs []int64) (map[int64][]AgentService, error) {
	out := map[int64][]AgentService{}
	if len(identityIDs) == 0 {
		return out, nil
	}
	var rows []AgentService
	if err := s.DB.WithContext(ctx).Where("identity_id IN ?", identityIDs).Order("name, id").Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.IdentityID] = append(out[r.IdentityID], r)
	}
	return out, nil
}

// RegisterAgentService returns the identity's service of that name,
// creating it (created true) when there is none; an existing one takes the
// mode and becomes Active again. Safe under concurrent registrations.
func (s *Store) RegisterAgentService(ctx context.Context, identityID int64, name, mode string) (*AgentService, bool, error) {
	var out AgentService
	created := false
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		now := tx.Now()
		row := AgentService{UUID: models.NewUUID(), IdentityID: identityID, Name: name, Mode: mode, State: models.AgentServiceActive,
			Created: now, Modified: now}
		res := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "identity_id"}, {Name: "name"}}, DoNothing: true}).Create(&row)
		if res.Error != nil {
			return translate(res.Error, "Agent service")
		}
		if res.RowsAffected == 1 {
			out, created = row, true
			return nil
		}
		if err := forUpdate(db).Where("identity_id = ? AND name = ?", identityID, name).Take(&out).Error; err != nil {
			return translate(err, "Agent service")
		}
		out.Mode, out.State, out.Modified = mode, models.AgentServiceActive, now
		return translate(db.Model(&AgentService{}).Where("id = ?", out.ID).
			Updates(map[string]any{"mode": mode, "state": out.State, "modified": now}).Error, "Agent service")
	})
	return &out, created, err
}

// AgentServiceView is a service with its identity's UUID, name and offering.
type AgentServiceView struct {
	AgentService       `gorm:"embedded"`
	IdentityUUID       models.UUID
	IdentityName       string
	OfferingID         int64
	OfferingCustomerID int64
}

// agentServices is the query over services joined for AgentServiceView
// (aliases: agent_services, i (agent_identities), f (offerings)).
func (s *Store) agentServices(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("agent_services").
		Select("agent_services.*, i.uuid AS identity_uuid, i.name AS identity_name, i.offering_id, f.customer_id AS offering_customer_id").
		Joins("JOIN agent_identities i ON i.id = agent_services.identity_id").
		Joins("JOIN offerings f ON f.id = i.offering_id")
}

// AgentServiceByUUID loads one service. Codes: not_found.
func (s *Store) AgentServiceByUUID(ctx context.Context, id models.UUID) (*AgentServiceView, error) {
	var v AgentServiceView
	if err := s.agentServices(ctx).Where("agent_services.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Agent service")
	}
	return &v, nil
}

// SetAgentServiceStatistics replaces the service's statistics.
func (s *Store) SetAgentServiceStatistics(ctx context.Context, id int64, stats JSONValue) error {
	return translate(s.DB.WithContext(ctx).Model(&AgentService{}).Where("id = ?", id).
		Updates(map[string]any{"statistics": stats, "modified": s.Now()}).Error, "Agent service")
}

// DeleteAgentService deletes the service with its processors.
func (s *Store) DeleteAgentService(ctx context.Context, id int64) error {
	return translate(s.DB.WithContext(ctx).Where("id = ?", id).Delete(&AgentService{}).Error, "Agent service")
}

// AgentProcessorsOf loads the processors of services, by service id, ordered by name.
func (s *Store) AgentProcessorsOf(ctx context.Context, serviceIDs []int64) (map[int64][]AgentProcessor, error) {
	out := map[int64][]AgentProcessor{}
	if len(serviceIDs) == 0 {
		return out, nil
	}
	var rows []AgentProcessor
	if err := s.DB.WithContext(ctx).Where("service_id IN ?", serviceIDs).Order("name, id").Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.ServiceID] = append(out[r.ServiceID], r)
	}
	return out, nil
}

// RegisterAgentProcessor returns the service's processor of that name,
// creating it (created true) when there is none; either way it records the
// backend type and version and that it ran now (last_run). Safe under
// concurrent registrations.
func (s *Store) RegisterAgentProcessor(ctx context.Context, serviceID int64, name, backendType, backendVersion string) (*AgentProcessor, bool, error) {
	var out AgentProcessor
	created := false
	err := s.Tx(ctx, func(tx *Store) error {
		db := tx.DB.WithContext(ctx)
		now := tx.Now()
		row := AgentProcessor{UUID: models.NewUUID(), ServiceID: serviceID, Name: name, BackendType: backendType,
			BackendVersion: backendVersion, LastRun: &now, Created: now, Modified: now}
		res := db.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "service_id"}, {Name: "name"}}, DoNothing: true}).Create(&row)
		if res.Error != nil {
			return translate(res.Error, "Agent processor")
		}
		if res.RowsAffected == 1 {
			out, created = row, true
			return nil
		}
		if err := forUpdate(db).Where("service_id = ? AND name = ?", serviceID, name).Take(&out).Error; err != nil {
			return translate(err, "Agent processor")
		}
		out.BackendType, out.BackendVersion, out.LastRun, out.Modified = backendType, backendVersion, &now, now
		return translate(db.Model(&AgentProcessor{}).Where("id = ?", out.ID).Updates(map[string]any{
			"backend_type": backendType, "backend_version": backendVersion, "last_run": now, "modified": now}).Error, "Agent processor")
	})
	return &out, created, err
}

// AgentProcessorView is a processor with its service's UUID and name and
// the offering of the service's identity.
type AgentProcessorView struct {
	AgentProcessor     `gorm:"embedded"`
	ServiceUUID        models.UUID
	ServiceName        string
	OfferingID         int64
	OfferingCustomerID int64
}

// agentProcessors is the query over processors joined for
// AgentProcessorView (aliases: agent_processors, sv (agent_services),
// i (agent_identities), f (offerings)).
func (s *Store) agentProcessors(ctx context.Context) *gorm.DB {
	return s.DB.WithContext(ctx).Table("agent_processors").
		Select("agent_processors.*, sv.uuid AS service_uuid, sv.name AS service_name, i.offering_id, f.customer_id AS offering_customer_id").
		Joins("JOIN agent_services sv ON sv.id = agent_processors.service_id").
		Joins("JOIN agent_identities i ON i.id = sv.identity_id").
		Joins("JOIN offerings f ON f.id = i.offering_id")
}

// AgentProcessorByUUID loads one processor. Codes: not_found.
func (s *Store) AgentProcessorByUUID(ctx context.Context, id models.UUID) (*AgentProcessorView, error) {
	var v AgentProcessorView
	if err := s.agentProcessors(ctx).Where("agent_processors.uuid = ?", id).Take(&v).Error; err != nil {
		return nil, translate(err, "Agent processor")
	}
	return &v, nil
}

// DeleteAgentProcessor deletes the processor.
func (s *Store) DeleteAgentProcessor(ctx context.Context, id int64) error {
	return translate(s.DB.WithContext(ctx).Where("id = ?", id).Delete(&AgentProcessor{}).Error, "Agent processor")
}

// AgentFilter limits a query over identities, services or processors
// (joined with offerings f) to those of offerings whose customer the role
// scopes hold a role in, or that they hold a role on.
func (rs *RoleScopes) AgentFilter(q *gorm.DB) *gorm.DB {
	return q.Where("(f.customer_id IN ? OR f.id IN ?)", nonEmpty(rs.Customers), nonEmpty(rs.Offerings))
}

// TouchIntegrationStatus records a request of the offering's agent of type
// t at time at: the status becomes Active with that last request time
// (created on the first request). serviceName is the agent's User-Agent.
func (s *Store) TouchIntegrationStatus(ctx context.Context, offeringID int64, t models.AgentType, serviceName string, at time.Time) error {
	if len(serviceName) > 255 {
		serviceName = serviceName[:255]
	}
	row := IntegrationStatus{OfferingID: offeringID, AgentType: t, ServiceName: serviceName, Status: models.IntegrationActive,
		LastRequestTimestamp: &at}
	err := s.DB.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "offering_id"}, {Name: "agent_type"}},
		DoUpdates: clause.AssignmentColumns([]string{"service_name", "status", "last_request_timestamp"}),
	}).Create(&row).Error
	return translate(err, "Integration status")
}

// DisconnectStaleIntegrations marks Disconnected every Active integration
// status whose last request is older than before, and returns how many.
// Idempotent.
func (s *Store) DisconnectStaleIntegrations(ctx context.Context, before time.Time) (int64, error) {
	res := s.DB.WithContext(ctx).Model(&IntegrationStatus{}).
		Where("status = ? AND (last_request_timestamp IS NULL OR last_request_timestamp < ?)", models.IntegrationActive, before).
		Update("status", models.IntegrationDisconnected)
	if res.Error != nil {
		return 0, models.Internal(res.Error)
	}
	return res.RowsAffected, nil
}

// IntegrationStatusesOf loads the integration statuses of offerings, by
// offering id, ordered by agent type (the provider offering's
// integration_status field).
func (s *Store) IntegrationStatusesOf(ctx context.Context, offeringIDs []int64) (map[int64][]IntegrationStatus, error) {
	out := map[int64][]IntegrationStatus{}
	if len(offeringIDs) == 0 {
		return out, nil
	}
	var rows []IntegrationStatus
	if err := s.DB.WithContext(ctx).Where("offering_id IN ?", offeringIDs).Order("agent_type, id").Find(&rows).Error; err != nil {
		return nil, models.Internal(err)
	}
	for _, r := range rows {
		out[r.OfferingID] = append(out[r.OfferingID], r)
	}
	return out, nil
}
